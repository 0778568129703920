/**
 * The stream id of a pipeline whose `processors.chain.stream` is not set
 * (DESIGN §4.1, §5): `<service.name>/<service.instance.id>`, like the
 * `billing-api/01J9...` of §4.1. The instance part comes from the resource
 * (`resource` in the file, OTEL_RESOURCE_ATTRIBUTES), so an instance with a
 * stable id resumes its stream from the store after a restart; without one it
 * is a UUIDv7 drawn once per process, and every process starts a new stream.
 */
import type { Resource } from '@opentelemetry/resources';
import { createRecordId } from '@otel-audit/core';

const ATTR_SERVICE_NAME = 'service.name';
const ATTR_SERVICE_INSTANCE_ID = 'service.instance.id';

/** One id per process: the instance part when the resource names none. */
const PROCESS_INSTANCE_ID = createRecordId();

function text(value: unknown): string | undefined {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/**
 * The default stream id for `resource`.
 *
 * @example
 * defaultStreamId(resourceFromAttributes({ 'service.name': 'billing', 'service.instance.id': 'pod-7' })) // 'billing/pod-7'
 */
export function defaultStreamId(resource: Resource): string {
  const name = text(resource.attributes[ATTR_SERVICE_NAME]) ?? 'unknown_service';
  const instance = text(resource.attributes[ATTR_SERVICE_INSTANCE_ID]) ?? PROCESS_INSTANCE_ID;
  // The id is the checkpoint origin, one line of the signed note: no control characters.
  return `${name}/${instance}`.replace(/[\u0000-\u001f\u007f]/g, '_');
}
