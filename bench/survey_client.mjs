// A light load generator for the survey form on raw sockets: one complete submission per body (each its
// own invitation code) over N keep-alive connections opened first; prints one JSON line of results.
// Closed loop (rate null): each connection sends its next submission as soon as it is answered, so N
// requests always wait and latency is N / throughput by Little's law whatever the server does.
// Open loop (rate R): submissions are due at R per second whatever the answers, and each latency runs
// from the moment it was due (one waiting for a free connection counts its wait), so a server that
// falls behind shows it. Only the status line and Content-Length are parsed: the client stays cheap.
// Usage: node bench/survey_client.mjs PLAN.json   where PLAN = {url, path, cookie, connections, rate, bodies}
import { readFileSync } from "node:fs";
import net from "node:net";

const plan = JSON.parse(readFileSync(process.argv[2], "utf8"));
const { hostname, port } = new URL(plan.url);
const total = plan.bodies.length;
const statuses = {};
const latencies = [];
let errors = 0;
let answered = 0;

function request(body) {
  return Buffer.from(
    `POST ${plan.path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\n` +
      `Content-Type: application/x-www-form-urlencoded\r\nCookie: ${plan.cookie}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

class Connection {
  constructor(onIdle) {
    this.onIdle = onIdle;
    this.buffer = Buffer.alloc(0);
    this.due = null;
    this.socket = net.connect({ host: hostname, port: Number(port) });
    this.socket.setNoDelay(true);
    this.ready = new Promise((resolve, reject) => {
      this.socket.once("connect", resolve);
      this.socket.once("error", reject);
    });
    this.socket.on("data", (chunk) => this.read(chunk));
    this.socket.on("error", () => this.fail());
    this.socket.on("close", () => this.fail());
  }
  send(body, due) {
    this.due = due;
    this.socket.write(request(body));
  }
  read(chunk) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    const end = this.buffer.indexOf("\r\n\r\n");
    if (end < 0 || this.due === null) return;
    const head = this.buffer.subarray(0, end).toString("latin1");
    const length = Number((/\r\ncontent-length:\s*(\d+)/i.exec(head) || [0, 0])[1]);
    if (this.buffer.length < end + 4 + length) return;
    this.buffer = this.buffer.subarray(end + 4 + length);
    const status = head.slice(9, 12);
    statuses[status] = (statuses[status] || 0) + 1;
    latencies.push(performance.now() - this.due);
    this.due = null;
    answered += 1;
    this.onIdle(this);
  }
  fail() {
    if (this.due !== null) {
      errors += 1;
      answered += 1;
      this.due = null;
    }
  }
}

const idle = [];
const backlog = []; // [body, due] of submissions due while every connection was busy (due null: when sent)
let head = 0; // the next one of the backlog to send
let sent = 0;
let finish;
const finished = new Promise((resolve) => (finish = resolve));

function onIdle(connection) {
  const next = head < backlog.length ? backlog[head++] : undefined;
  if (next) connection.send(next[0], next[1] ?? performance.now()); // closed loop: due when sent
  else idle.push(connection);
  if (answered >= total) finish();
}

const connections = Array.from({ length: plan.connections }, () => new Connection(onIdle));
await Promise.all(connections.map((c) => c.ready));
idle.push(...connections);

const cpuBefore = process.cpuUsage();
const started = performance.now();
if (!plan.rate) {
  // Closed loop: every connection starts with one submission; each answer releases the next (onIdle).
  for (const body of plan.bodies.slice(connections.length)) backlog.push([body, null]);
  sent = total;
  for (const [i, c] of connections.slice(0, total).entries()) c.send(plan.bodies[i], performance.now());
  idle.length = 0;
}
const timer = setInterval(() => {
  const due = Math.min(total, Math.floor(((performance.now() - started) / 1000) * plan.rate));
  while (sent < due) {
    const when = started + (sent / plan.rate) * 1000;
    const body = plan.bodies[sent++];
    const connection = idle.pop();
    if (connection) connection.send(body, when);
    else backlog.push([body, when]);
  }
  if (sent >= total) clearInterval(timer);
}, 1);
await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 600_000))]);
const wall = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpuBefore);
for (const c of connections) c.socket.destroy();

latencies.sort((a, b) => a - b);
const at = (q) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : NaN);
console.log(
  JSON.stringify({
    statuses,
    sent,
    errors: errors + (total - answered),
    timeouts: 0,
    wall_s: wall,
    p50_ms: at(0.5),
    p99_ms: at(0.99),
    max_ms: latencies.at(-1),
    client_cpu_s: (cpu.user + cpu.system) / 1e6,
  }),
);
process.exit(0);
