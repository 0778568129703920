#!/usr/bin/env node
import { main } from "../dist/index.js";
import { stdoutFailure } from "../dist/internal/stdout-writer.js";

for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (e) => {
    // `otel-audit query | head`: the reader went away; stop quietly, as Unix tools do.
    if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
    // Any other failure (a terminal hung up, a device error) cut the output: say so, exit 2, no stack trace.
    if (stream === process.stdout) {
      const failed = stdoutFailure(e);
      process.stderr.write(`otel-audit: ${failed.message}\n  fix: ${failed.fix}\n`);
    }
    process.exit(2);
  });
}
process.exitCode = await main(process.argv.slice(2));
