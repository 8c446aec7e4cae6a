// Types for web/serve.mjs (the demo page's static server), for the TypeScript tests.
export declare const DEFAULT_MOUNTS: Record<string, string>;
export declare function parseRange(header: string, size: number): { start: number; end: number } | 'unsatisfiable' | null;
export interface StaticServer {
  port: number;
  /** http://localhost:PORT/ (a secure context). */
  url: string;
  close(): Promise<void>;
}
export declare function startServer(options?: { port?: number; mounts?: Record<string, string>; log?: boolean }): Promise<StaticServer>;
