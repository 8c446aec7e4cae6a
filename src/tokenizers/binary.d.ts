// Tokenizer files shipped with the package, embedded as bytes at build time (esbuild binary loader).
declare module '*.model' {
  const bytes: Uint8Array;
  export default bytes;
}
