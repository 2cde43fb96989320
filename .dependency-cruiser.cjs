/**
 * The layers of src/ and the direction of their imports, checked by test/architecture.test.ts
 * (so `npm test` fails on a violation) and by `npm run check:layers`. docs/architecture.md explains them.
 *
 *   shared → db → modules → flows → plugins, routes → app.ts, server.ts, cli.ts, config.ts, jobs/, demo/
 *
 * A layer imports only from layers to its left, or from itself. Type-only imports count: a type
 * is a dependency too (tsPreCompilationDeps).
 *
 * Paths are relative to the directory cruised from (the repository, or a fixture's root in the
 * test that proves these rules bite), so every rule names `src/…`.
 */

/** The layers each layer may import, besides itself and packages. */
const below = {
  shared: [],
  db: ['shared'],
  modules: ['db', 'shared'],
  flows: ['modules', 'db', 'shared'],
  plugins: ['flows', 'modules', 'db', 'shared'],
  // routes and plugins are one layer; routes may use plugins (errors), plugins never routes
  routes: ['plugins', 'flows', 'modules', 'db', 'shared'],
};

/** config.ts is read at the top: the layers up to flows are handed values, never import it. */
const mayImportConfig = new Set(['plugins', 'routes']);

const layerRules = Object.entries(below).map(([layer, allowed]) => ({
  name: `${layer}-imports-only-below`,
  comment: `src/${layer}/ imports only ${allowed.length ? allowed.map((l) => `src/${l}/`).join(', ') : 'packages and itself'}${mayImportConfig.has(layer) ? ' and src/config.ts' : ''} (the layer order: shared → db → modules → flows → plugins/routes → app)`,
  severity: 'error',
  from: { path: `^src/${layer}/` },
  to: {
    path: '^src/',
    pathNot: [`^src/(${[layer, ...allowed].join('|')})/`, ...(mayImportConfig.has(layer) ? ['^src/config\\.ts$'] : [])],
  },
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'no-cycles',
      comment: 'Imports form no cycle, inside a layer either.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'module-through-index',
      comment: 'A module reaches another module only through its index.ts, the only way in.',
      severity: 'error',
      from: { path: '^src/modules/([^/]+)/' },
      to: { path: '^src/modules/[^/]+/', pathNot: ['^src/modules/$1/', '^src/modules/[^/]+/index\\.ts$'] },
    },
    {
      name: 'modules-through-index',
      comment: 'Flows, routes, plugins and the top level reach a module only through its index.ts.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/modules/' },
      to: { path: '^src/modules/[^/]+/', pathNot: '^src/modules/[^/]+/index\\.ts$' },
    },
    {
      name: 'src-not-into-test-or-bench',
      comment: 'Nothing in src/ (its unit tests included) imports test/ or bench/: they depend on src/, not the other way.',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
    {
      name: 'src-not-dev-dependencies',
      comment: 'The shipped code uses dependencies, not devDependencies (unit tests beside the code may).',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['npm-dev'] },
    },
    {
      name: 'resolvable',
      comment: 'Every import resolves (an unresolved one would escape the other rules).',
      severity: 'error',
      from: { path: '^src/' },
      to: { couldNotResolve: true },
    },
    {
      name: 'no-orphans',
      comment: 'Every file in src/ is imported or imports something: a file nothing uses is dead.',
      severity: 'error',
      from: { orphan: true, path: '^src/', pathNot: '\\.d\\.ts$' },
      to: {},
    },
  ],
  options: {
    // TypeScript 7 has no compiler API for dependency-cruiser (which supports typescript < 7):
    // swc parses the .ts files, type-only imports included.
    parser: 'swc',
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    moduleSystems: ['es6'],
    enhancedResolveOptions: {
      extensions: ['.ts', '.mjs', '.js'],
      exportsFields: ['exports'],
      conditionNames: ['import', 'node', 'default'],
      mainFields: ['module', 'main'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
