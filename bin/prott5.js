#!/usr/bin/env node
// The prott5 command (built by `npm run build`; `npm pack` / `npm publish` run it through "prepack").
import '../dist/cli.js';
