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
export type { DaemonStatus, ExecutorView, ProbeRecord, SourceState, SourceView } from './sdk/index.js';
export type { Logger, LogLevel } from './log.js';
export { RateTracker } from './sdk/rate.js';
export { runCommand } from './sdk/command.js';
export { httpRequest, httpJson } from './sdk/http.js';
export { LineChild, type LineChildOptions, type ChildExit } from './sdk/child.js';
