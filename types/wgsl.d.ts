// WGSL sources are embedded as strings at build time (esbuild text loader), so Node and the
// browser run byte-identical shaders with no fs or fetch.
declare module '*.wgsl' {
  const source: string;
  export default source;
}
