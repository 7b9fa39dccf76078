#!/usr/bin/env node
/**
 * Checks what jsii-rosetta made of the README's code samples (.jsii.tabl.json, written by
 * `jsii-rosetta extract`): every sample compiled and has a translation for every language, the
 * Python ones parse, and none keeps TypeScript that the other languages have no words for
 * (Object.entries, template literals), which rosetta passes through as it is, nor a shorthand
 * property, which rosetta turns into a Go name that does not exist.
 * Usage: node test/package/check-translations.js [tablet]
 */
const { execFileSync } = require('child_process');
const fs = require('fs');

const LANGUAGES = ['python', 'java', 'csharp', 'go'];
const UNTRANSLATED = [/\bObject\.(entries|keys|values|assign)\b/, /\$\{/, /`/];

const tablet = JSON.parse(fs.readFileSync(process.argv[2] ?? '.jsii.tabl.json', 'utf8'));
const problems = [];
const python = [];
for (const [key, snippet] of Object.entries(tablet.snippets)) {
  const where = `README line ${snippet.location?.field?.line ?? '?'} (${key.slice(0, 8)})`;
  if (!snippet.didCompile) {
    problems.push(`${where}: did not compile`);
  }
  for (const language of LANGUAGES) {
    const source = snippet.translations?.[language]?.source;
    if (typeof source !== 'string' || source.trim() === '') {
      problems.push(`${where}: no ${language} translation`);
      continue;
    }
    if (language === 'go') {
      // A TypeScript shorthand property ({ distribution }) comes out as a Go name that does not exist.
      const shorthand = source.split('\n').find((l) => /^\s*([A-Z]\w*): \1,\s*$/.test(l));
      if (shorthand) {
        problems.push(`${where}: the go translation names a variable that does not exist (a shorthand property?): ${shorthand.trim()}`);
      }
    }
    for (const pattern of UNTRANSLATED) {
      if (pattern.test(source)) {
        problems.push(`${where}: the ${language} translation keeps TypeScript (${pattern}): ${source.split('\n').find((l) => pattern.test(l)).trim()}`);
      }
    }
    if (language === 'python') {
      python.push({ where, source });
    }
  }
}
const parse = 'import ast, json, sys\nfor s in json.load(sys.stdin):\n    try:\n        ast.parse(s["source"])\n    except SyntaxError as e:\n        print(f"{s[\'where\']}: the python translation does not parse: {e}")\n';
const out = execFileSync('python3', ['-c', parse], { input: JSON.stringify(python), encoding: 'utf8' });
problems.push(...out.split('\n').filter(Boolean));

if (problems.length > 0) {
  console.error(`${problems.length} problem(s) with the README's code samples:\n${problems.join('\n')}`);
  process.exit(1);
}
console.log(`${Object.keys(tablet.snippets).length} README samples compile and translate to ${LANGUAGES.join(', ')}`);
