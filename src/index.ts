// The SDK a plugin imports: `import { Source } from 'pollect'`.
export {
  Source,
  SourceError,
  type Sample,
  type ProbeResult,
  type ProbeContext,
  type InitContext,
  type SourceConfig,
  type SourceClass,
  type AnySourceClass,
  type Labels,
  type MetricType,
} from './sdk/index.js';
export {
  Writer,
  type Batch,
  type Point,
  type SourceStatus,
  type WriterConfig,
  type WriterContext,
  type WriterStats,
  type WriterClass,
  type AnyWriterClass,
} from './sdk/index.js';
export { ParamError, redact, registerSecret, type JsonSchema, type ParamsOf, type SourceParams, type WriterParams, type PluginContext } from './sdk/index.js';
export { checkHost, checkUrl, compileRegex, namesParam, portParam, readParamFile, resolvePath } from './sdk/params.js';
export type { Logger, LogLevel } from './log.js';
export { RateTracker } from './sources/lib/rate.js';
export { runCommand } from './sources/lib/exec.js';
export { httpRequest, httpJson } from './sources/lib/http.js';
