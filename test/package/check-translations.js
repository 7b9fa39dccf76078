#!/usr/bin/env node
/**
 * Checks what jsii-rosetta made of the README's code samples (.jsii.tabl.json, written by
 * `jsii-rosetta extract`): every sample compiled and has a translation for every language, the
 * Python ones parse, and none holds a form that is known to be wrong in its language:
 *
 * - TypeScript that the other languages have no words for (Object.entries, template literals,
 *   `undefined`, `===`), which rosetta passes through as it is, or rosetta's own `#error#` marker;
 * - a comment twice in a row, as rosetta repeats a comment before or after a statement (a comment
 *   inside an object literal comes out once);
 * - Go: a shorthand property ({ distribution }), which rosetta turns into a name that does not
 *   exist; a dereferenced call of a static method or property (`*pkg.Type_Method(...)`) of this
 *   library or aws-cdk-lib that returns a class, an interface, an enum or a list: jsii classes
 *   and interfaces are Go interfaces, and lists come as `*[]*T`, which is what a property takes;
 *   a star inside a name (`InvalidationPaths_*ChangedFiles(`), which rosetta writes when a snippet
 *   uses a static method a second time; a member whose name starts in lower case
 *   (`api.currentVersion`), which Go code cannot reach;
 * - Java: a member read as a field (`api.currentVersion`) rather than through its getter, a
 *   variable declared as `Object`, which rosetta writes when it lost the type (and which then
 *   fits no property), and a variable declared as an array (`String[] paths = ...`): jsii gives
 *   Java lists as `List<T>`;
 * - C#: a member whose name starts in lower case, and `new Struct`, which rosetta writes for an
 *   object literal whose type it does not know;
 * - Python: a camelCase member or keyword argument (`api.currentVersion`, `maxPaths=`).
 *
 * What keeps Go samples right: the go target names its packageName (.projenrc.ts), which rosetta
 * then writes as it is (derived, it is taken for a renamed identifier and dereferenced in a
 * property's value); a static method used twice in one snippet comes out with a star the second
 * time: assign a class or interface it returns to a variable, and keep lists inline (Java declares
 * list variables as arrays).
 *
 * Rosetta's Go output has further habits that no sample can avoid and that this check leaves
 * alone: struct types and import paths it does not qualify, list literals without `&`, and
 * properties read without `()`.
 *
 * The checks test themselves first on known good and bad lines. The rules are in
 * translation-rules.js (reading code apart from strings and comments in translation-source.js,
 * the types of jsii's assemblies in assembly-types.js), the known lines in translation-self-test.js.
 * Usage: node test/package/check-translations.js [tablet]   or   --self-test
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const { loadAssemblies, staticReturnKind } = require('./assembly-types');
const { translationProblems, goProblems, otherProblems } = require('./translation-rules');
const { selfTest } = require('./translation-self-test');
const { codeOnly } = require('./translation-source');

const LANGUAGES = ['python', 'java', 'csharp', 'go'];

function main() {
  const assemblies = loadAssemblies();
  const test = selfTest(assemblies);
  if (test.failures.length > 0) {
    console.error(test.failures.join('\n'));
    process.exit(1);
  }
  if (process.argv[2] === '--self-test') {
    console.log(`self-test: ${test.cases} known good and bad lines judged right`);
    return;
  }

  const tablet = JSON.parse(fs.readFileSync(process.argv[2] ?? '.jsii.tabl.json', 'utf8'));
  const problems = [];
  const python = [];
  for (const [key, snippet] of Object.entries(tablet.snippets)) {
    const sample = `README line ${snippet.location?.field?.line ?? '?'} (${key.slice(0, 8)})`;
    if (!snippet.didCompile) {
      problems.push(`${sample}: did not compile`);
    }
    for (const language of LANGUAGES) {
      const source = snippet.translations?.[language]?.source;
      if (typeof source !== 'string' || source.trim() === '') {
        problems.push(`${sample}: no ${language} translation`);
        continue;
      }
      problems.push(...translationProblems(language, source, assemblies, snippet.fqnsReferenced).map((p) => `${sample}: ${p}`));
      if (language === 'python') {
        python.push({ sample, source });
      }
    }
  }
  const parse = 'import ast, json, sys\nfor s in json.load(sys.stdin):\n    try:\n        ast.parse(s["source"])\n    except SyntaxError as e:\n        print(f"{s[\'sample\']}: the python translation does not parse: {e}")\n';
  const out = execFileSync('python3', ['-c', parse], { input: JSON.stringify(python), encoding: 'utf8' });
  problems.push(...out.split('\n').filter(Boolean));

  if (problems.length > 0) {
    console.error(`${problems.length} problem(s) with the README's code samples:\n${problems.join('\n')}`);
    process.exit(1);
  }
  console.log(`${Object.keys(tablet.snippets).length} README samples compile and translate to ${LANGUAGES.join(', ')} `
    + `(the check judged ${test.cases} known good and bad lines right first)`);
}

if (require.main === module) {
  main();
}

module.exports = { codeOnly, goProblems, otherProblems, translationProblems, selfTest, staticReturnKind };
