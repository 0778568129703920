/**
 * The OTLP/HTTP logs receiver of otel-audit (`otel-audit collect`, DESIGN
 * §1 use 3, §4.4, §4.6, §5): public entry of the collector.
 */
export { startCollector } from './start-collector.js';
export type { CollectorOptions, RunningCollector } from './start-collector.js';
export type { SenderTokenInput } from './sender-tokens.js';
