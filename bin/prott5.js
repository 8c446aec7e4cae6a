#!/usr/bin/env node
// The prott5 command (built by `npm run build`, which `npm ci` runs through "prepare").
import '../dist/cli.js';
