// A native-speed load generator for the survey form (autocannon): one complete submission per body,
// each with its own invitation code, over N keep-alive connections; prints one JSON line of results.
// Usage: node bench/survey_load.mjs PLAN.json   where PLAN = {url, path, cookie, connections, bodies: [...]}
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

const require = createRequire(join(dirname(fileURLToPath(import.meta.url)), "..", "package.json"));
const autocannon = require("autocannon");

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
let next = 0;
const started = process.hrtime.bigint();
const cpuBefore = process.cpuUsage();

const result = await autocannon({
  url: plan.url,
  connections: plan.connections,
  amount: plan.bodies.length,
  timeout: 60,
  pipelining: 1,
  requests: [
    {
      method: "POST",
      path: plan.path,
      headers: { "content-type": "application/x-www-form-urlencoded", cookie: plan.cookie },
      // Each request takes the next body: every code is sent once, whichever connection sends it.
      setupRequest: (request) => ({ ...request, body: plan.bodies[next++ % plan.bodies.length] }),
    },
  ],
});

const cpu = process.cpuUsage(cpuBefore);
const statuses = {};
for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = Number(stat.count);
console.log(
  JSON.stringify({
    statuses,
    sent: next,
    errors: result.errors,
    timeouts: result.timeouts,
    wall_s: Number(process.hrtime.bigint() - started) / 1e9,
    autocannon_duration_s: result.duration,
    p50_ms: result.latency.p50,
    p99_ms: result.latency.p99,
    max_ms: result.latency.max,
    client_cpu_s: (cpu.user + cpu.system) / 1e6,
  }),
);
