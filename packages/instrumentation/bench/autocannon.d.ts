// Minimal typing of the autocannon programmatic API used by http-load.ts
// (@types/autocannon is not installed in this workspace).
declare module 'autocannon' {
  interface Histogram { average: number; p50: number; p99: number; total: number }
  interface Result { requests: Histogram; latency: Histogram; errors: number; non2xx: number }
  interface Options { url: string; connections?: number; duration?: number; headers?: Record<string, string> }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
