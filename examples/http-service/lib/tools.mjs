// The managed objects of the http-service example: "tools" kept in memory,
// with validation of what a client may set. Pure data handling; the server
// decides who may call it and records the changes (old and new values) with
// the explicit audit API (DESIGN §1 use 2).

const FIELDS = { name: 'string', description: 'string', enabled: 'boolean', url: 'string' };

/**
 * Create the tool registry with two seed tools.
 *
 * @example
 * const tools = createToolRegistry();
 * const created = tools.create({ name: 'grafana', enabled: true }, 'alice');
 */
export function createToolRegistry() {
  const tools = new Map();
  let next = 1;
  const put = (fields, owner) => {
    const tool = { id: String(next++), name: fields.name, description: fields.description ?? '', enabled: fields.enabled ?? true, url: fields.url ?? '', owner };
    tools.set(tool.id, tool);
    return { ...tool };
  };
  put({ name: 'jenkins', description: 'CI server', url: 'https://ci.example.test' }, 'system');
  put({ name: 'pgadmin', description: 'database console', enabled: false, url: 'https://db.example.test' }, 'system');

  return {
    list: () => [...tools.values()].map((t) => ({ ...t })),
    get: (id) => (tools.has(id) ? { ...tools.get(id) } : undefined),
    create: (fields, owner) => put(fields, owner),
    /** The updated tool, or undefined when `id` does not exist. */
    update(id, fields) {
      const tool = tools.get(id);
      if (tool === undefined) return undefined;
      Object.assign(tool, fields);
      return { ...tool };
    },
    /** The deleted tool, or undefined. */
    remove(id) {
      const tool = tools.get(id);
      if (tool !== undefined) tools.delete(id);
      return tool;
    },
  };
}

/**
 * Check a client's tool fields: known keys only, right types, a name on
 * create. Returns `{ fields }` or `{ error }` (a message for a 400).
 *
 * @example
 * validateToolFields({ name: 'x', enabled: 'yes' }, { create: true }).error // 'enabled must be a boolean'
 */
export function validateToolFields(input, { create }) {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { error: 'the body must be a JSON object' };
  const fields = {};
  for (const [key, value] of Object.entries(input)) {
    if (!(key in FIELDS)) return { error: `unknown field ${JSON.stringify(key)} (allowed: ${Object.keys(FIELDS).join(', ')})` };
    if (typeof value !== FIELDS[key]) return { error: `${key} must be a ${FIELDS[key]}` };
    if (typeof value === 'string' && value.length > 200) return { error: `${key} is longer than 200 characters` };
    fields[key] = value;
  }
  if (create && (typeof fields.name !== 'string' || fields.name === '')) return { error: 'name is required' };
  return { fields };
}
