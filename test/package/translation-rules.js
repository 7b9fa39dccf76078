/**
 * The rules each language's translation of a README sample is held to, as check-translations.js's
 * header lists them: TypeScript left untranslated, a comment repeated, and each language's forms
 * known to be wrong.
 */
'use strict';

const { staticReturnKind } = require('./assembly-types');
const { codeOnly, DECLARATION } = require('./translation-source');

const UNTRANSLATED = [/\bObject\.(entries|keys|values|assign)\b/, /\$\{/, /`/];
/** Checked with strings and comments blanked out. */
const UNTRANSLATED_CODE = [/\bundefined\b/, /[!=]==/, /#error#/];

/** The Go problems of one translation, one line each. */
function goProblems(source, assemblies, referenced) {
  const problems = [];
  const code = codeOnly(source, 'go').split('\n');
  source.split('\n').forEach((line, n) => {
    const bare = code[n];
    // A TypeScript shorthand property ({ distribution }) comes out as a Go name that does not exist.
    if (/^\s*([A-Z]\w*): \1,\s*$/.test(bare)) {
      problems.push(`the go translation names a variable that does not exist (a shorthand property?): ${line.trim()}`);
    }
    for (const m of bare.matchAll(/\*\s*(?:[A-Za-z_]\w*\.)?([A-Z][A-Za-z0-9]*)_([A-Z]\w*)\s*\(/g)) {
      const kind = staticReturnKind(assemblies, m[1], m[2], referenced);
      if (kind !== undefined && kind !== 'primitive') {
        const what = {
          list: 'a list (in Go *[]*T, what a property takes)',
          map: 'a map (in Go *map[string]*T, what a property takes)',
          struct: 'a struct (in Go a pointer, what a property takes)',
          enum: 'an enum (in Go a value, not a pointer)',
          void: 'nothing',
        }[kind] ?? `a ${kind} (in Go an interface, which cannot be dereferenced)`;
        problems.push(`the go translation dereferences ${m[1]}_${m[2]}(...), which returns ${what} (see this check's header): ${line.trim()}`);
      }
    }
    const starred = bare.match(/\w(?:_|\.)\*\w+/);
    if (starred) {
      problems.push(`the go translation has a star inside a name (${starred[0]}), which does not parse (see this check's header): ${line.trim()}`);
    }
    if (!DECLARATION.test(bare)) {
      const member = bare.match(/\b[A-Za-z_]\w*\.([a-z]\w*)/);
      if (member) {
        problems.push(`the go translation reads a member that Go code cannot reach (${member[1]} starts in lower case): ${line.trim()}`);
      }
    }
  });
  return problems;
}

/** The Java, C# and Python problems of one translation, one line each. */
function otherProblems(language, source) {
  const problems = [];
  const code = codeOnly(source, language).split('\n');
  source.split('\n').forEach((line, n) => {
    const bare = code[n];
    if (DECLARATION.test(bare)) {
      return;
    }
    if (language === 'java') {
      const field = bare.match(/\b[A-Za-z_]\w*\.([a-z]\w*)\b(?!\s*\()/);
      if (field) {
        problems.push(`the java translation reads ${field[1]} as a field, not through its getter: ${line.trim()}`);
      }
      if (/^\s*Object\s+\w+\s*=/.test(bare)) {
        problems.push(`the java translation declares a variable as Object (rosetta lost its type), which fits no property: ${line.trim()}`);
      }
      if (/^\s*[\w.<>]+\[\]\s+\w+\s*=/.test(bare)) {
        problems.push(`the java translation declares an array, where jsii gives a List: ${line.trim()}`);
      }
    }
    if (language === 'csharp') {
      const member = bare.match(/\b[A-Za-z_]\w*\.([a-z]\w*)/);
      if (member) {
        problems.push(`the csharp translation reads a member whose name starts in lower case (${member[1]}): ${line.trim()}`);
      }
      if (/\bnew\s+Struct\b/.test(bare)) {
        problems.push(`the csharp translation makes a Struct, a type that does not exist (rosetta did not know the literal's type): ${line.trim()}`);
      }
    }
    if (language === 'python') {
      const camel = bare.match(/\.([a-z]+[A-Z]\w*)|\b([a-z]+[A-Z]\w*)\s*=(?!=)/);
      if (camel) {
        problems.push(`the python translation keeps a camelCase name (${camel[1] ?? camel[2]}): ${line.trim()}`);
      }
    }
  });
  return problems;
}

/** Every problem of one language's translation of one sample. */
function translationProblems(language, source, assemblies, referenced) {
  const problems = [];
  for (const pattern of UNTRANSLATED) {
    if (pattern.test(source)) {
      problems.push(`the ${language} translation keeps TypeScript (${pattern}): ${source.split('\n').find((l) => pattern.test(l)).trim()}`);
    }
  }
  const code = codeOnly(source, language).split('\n');
  for (const pattern of UNTRANSLATED_CODE) {
    const n = code.findIndex((l) => pattern.test(l));
    if (n !== -1) {
      problems.push(`the ${language} translation keeps TypeScript (${pattern}): ${source.split('\n')[n].trim()}`);
    }
  }
  // The comment of each line, where it has one: a line's comment repeated on the next line.
  const comments = [];
  codeOnly(source, language, comments);
  const repeated = comments.findIndex((c, n) => c !== undefined && n > 0 && c === comments[n - 1]);
  if (repeated !== -1) {
    problems.push(`the ${language} translation repeats a comment (put it inside an object literal, or in the text): ${comments[repeated]}`);
  }
  problems.push(...(language === 'go' ? goProblems(source, assemblies, referenced) : otherProblems(language, source)));
  return problems;
}

module.exports = { goProblems, otherProblems, translationProblems };
