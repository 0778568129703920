/**
 * The client side of the http-overhead bench: autocannon's programmatic API
 * in its own process (10 connections, loopback). Prints one JSON line with
 * req/s and latency percentiles.
 */
import autocannon from 'autocannon';

const url = process.argv[2]!;
const seconds = Number(process.argv[3] ?? 5);
const result = await autocannon({ url, connections: 10, duration: seconds, headers: { 'user-agent': 'autocannon-bench', authorization: 'Bearer x.eyJzdWIiOiJiZW5jaCJ9.y' } });
console.log(JSON.stringify({ rps: result.requests.average, p50: result.latency.p50, p99: result.latency.p99, errors: result.errors, non2xx: result.non2xx, total: result.requests.total }));
