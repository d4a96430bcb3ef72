// The peer of otlp_export_bench: the OpenTelemetry JavaScript SDK (@opentelemetry/sdk-trace-base
// with the OTLP/HTTP protobuf exporter, @opentelemetry/exporter-trace-otlp-proto) makes and
// exports N spans of the same shape to the same sink. Prints one JSON line like the C++ harness.
//   node bench/otlp/sdk_export.mjs --url http://127.0.0.1:PORT --spans 100000
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', '..', 'web', 'package.json'));
const { BasicTracerProvider, BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { SpanKind } = require('@opentelemetry/api');

const args = process.argv.slice(2);
const arg = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : def;
};
const url = arg('--url');
const n = Number(arg('--spans', '100000'));
if (!url) {
  console.error('usage: sdk_export.mjs --url URL [--spans N]');
  process.exit(2);
}

const exporter = new OTLPTraceExporter({ url: url.replace(/\/$/, '') + '/v1/traces' });
let sent = 0;
let failed = 0;
const exportOriginal = exporter.export.bind(exporter);
exporter.export = (spans, done) =>
  exportOriginal(spans, (result) => {
    if (result.code === 0) sent += spans.length;
    else failed += spans.length;
    done(result);
  });
const processor = new BatchSpanProcessor(exporter, {
  maxExportBatchSize: 512,
  maxQueueSize: 8192,
  scheduledDelayMillis: 200,
});
const provider = new BasicTracerProvider({
  resource: resourceFromAttributes({ 'service.name': 'otlp-bench' }),
  spanProcessors: [processor],
});
const tracer = provider.getTracer('trafficsim-bench');

const cpu0 = process.cpuUsage();
const wall0 = process.hrtime.bigint();
for (let i = 0; i < n; i++) {
  const span = tracer.startSpan('GET /products/recommendations', {
    kind: SpanKind.SERVER,
    attributes: {
      'http.request.method': 'GET',
      'http.route': '/products/recommendations',
      'url.path': '/products/recommendations',
      'http.response.status_code': 200,
      'server.address': '127.0.0.1',
      'traffic.type': 'demo',
      'endpoint.type': 'slow_unindexed',
      'db.index_used': 'NONE',
      'db.rows_scanned': 500000,
      'demo.minute': 21.5,
      'demo.phase': 'critical',
    },
  });
  span.end();
  // Let the batch processor send: the queue (8192) must not overflow, as on the C++ side.
  if (i % 4096 === 4095) {
    await processor.forceFlush();
  }
}
await processor.forceFlush();
await provider.shutdown();
const cpu = process.cpuUsage(cpu0);
const cpuS = (cpu.user + cpu.system) / 1e6;
const wallS = Number(process.hrtime.bigint() - wall0) / 1e9;
console.log(JSON.stringify({ spans: n, sent, failed, cpu_s: cpuS, wall_s: wallS,
  spans_per_cpu_s: Math.round(sent / cpuS) }));
process.exit(sent === n ? 0 : 1);
