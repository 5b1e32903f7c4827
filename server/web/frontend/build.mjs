// The studio's bundles: `node build.mjs` (run by `make setup` when the lock file or src/
// change). bpmn-js's modeler, its properties panel with Camunda 7's moddle and provider,
// bpmnlint and bpmn-js-differ are ES modules that import each other and CSS, so they are
// bundled by esbuild into dist/ (never committed), which the settings serve as static files
// under "studio/". The case page's viewer needs no bundle: bpmn-js ships one.
import { readFile } from "node:fs/promises";
import { dirname } from "node:path";
import { createRequire } from "node:module";
import * as esbuild from "esbuild";

const require = createRequire(import.meta.url);
const compileConfig = require("bpmnlint/lib/support/compile-config");

// A .bpmnlintrc imported from the sources becomes a module holding its rules and a resolver
// for them: what bpmnlint-pack-config does with rollup, in a few lines of esbuild.
const bpmnlintConfig = {
  name: "bpmnlint-config",
  setup(build) {
    build.onLoad({ filter: /\.bpmnlintrc$/ }, async (args) => ({
      contents: await compileConfig(JSON.parse(await readFile(args.path, "utf8"))),
      loader: "js",
      resolveDir: dirname(args.path),
    }));
  },
};

await esbuild.build({
  entryPoints: { studio: "src/studio.js", diff: "src/diff.js" },
  outdir: "dist",
  bundle: true,
  format: "iife",
  minify: true,
  target: ["es2020"],
  legalComments: "linked",
  logLevel: "warning",
  define: { "process.env.NODE_ENV": '"production"' },
  loader: { ".woff": "file", ".woff2": "file", ".ttf": "file", ".eot": "file", ".svg": "file" },
  assetNames: "assets/[name]-[hash]",
  plugins: [bpmnlintConfig],
});
