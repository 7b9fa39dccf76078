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
 * The checks test themselves first on known good and bad lines.
 * Usage: node test/package/check-translations.js [tablet]   or   --self-test
 */
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const LANGUAGES = ['python', 'java', 'csharp', 'go'];
const UNTRANSLATED = [/\bObject\.(entries|keys|values|assign)\b/, /\$\{/, /`/];
/** Checked with strings and comments blanked out. */
const UNTRANSLATED_CODE = [/\bundefined\b/, /[!=]==/, /#error#/];

/**
 * The source with every string literal and comment replaced by spaces, lines kept: what is left is
 * code. Go's raw strings, Python's triple-quoted strings and block comments included.
 */
function codeOnly(source, language, comments = []) {
  const lineComment = language === 'python' ? '#' : '//';
  const quotes = language === 'python' ? ['"""', "'''", '"', "'"] : language === 'go' ? ['"', '`', "'"] : ['"', "'"];
  let out = '';
  let i = 0;
  const blank = (text) => text.replace(/[^\n]/g, ' ');
  while (i < source.length) {
    if (source.startsWith(lineComment, i)) {
      const end = source.indexOf('\n', i);
      const stop = end === -1 ? source.length : end;
      comments[out.split('\n').length - 1] = source.slice(i, stop).trim();
      out += blank(source.slice(i, stop));
      i = stop;
      continue;
    }
    if (language !== 'python' && source.startsWith('/*', i)) {
      const end = source.indexOf('*/', i + 2);
      const stop = end === -1 ? source.length : end + 2;
      out += blank(source.slice(i, stop));
      i = stop;
      continue;
    }
    const quote = quotes.find((q) => source.startsWith(q, i));
    if (quote) {
      let j = i + quote.length;
      while (j < source.length && !source.startsWith(quote, j)) {
        j += source[j] === '\\' && quote !== '`' ? 2 : 1;
      }
      const stop = Math.min(source.length, j + quote.length);
      out += blank(source.slice(i, stop));
      i = stop;
      continue;
    }
    out += source[i];
    i += 1;
  }
  return out;
}

/** Lines that declare imports or a package: their dotted names are not member accesses. */
const DECLARATION = /^\s*(import|package|using|from)\b/;

/**
 * What a static method or property returns, looked up in the assemblies: 'primitive', 'struct',
 * 'class', 'interface', 'enum', 'list', 'map', or undefined when not found. `referenced` is the
 * sample's fqnsReferenced (such as `aws-cdk-lib.aws_s3_deployment.Source#asset`), which names the
 * module of a type; without it every type of that name is looked at.
 */
function staticReturnKind(assemblies, typeName, memberName, referenced) {
  const wanted = (name) => name.charAt(0).toUpperCase() + name.slice(1) === memberName;
  const candidates = [];
  for (const assembly of assemblies) {
    for (const [fqn, type] of Object.entries(assembly.types)) {
      if (type.name !== typeName) {
        continue;
      }
      const hinted = referenced === undefined || referenced.some((r) => r === fqn || r.startsWith(`${fqn}#`));
      if (hinted) {
        candidates.push(type);
      }
    }
  }
  for (const type of candidates) {
    const method = (type.methods ?? []).find((m) => m.static && wanted(m.name));
    const property = (type.properties ?? []).find((p) => p.static && wanted(p.name));
    const typeRef = method ? method.returns?.type : property?.type;
    if (method && !method.returns) {
      return 'void';
    }
    if (typeRef) {
      return kindOf(assemblies, typeRef);
    }
  }
  return undefined;
}

function kindOf(assemblies, typeRef) {
  if (typeRef.primitive) {
    return 'primitive';
  }
  if (typeRef.collection) {
    return typeRef.collection.kind === 'array' ? 'list' : 'map';
  }
  if (typeRef.union || typeRef.intersection) {
    return 'union';
  }
  const type = assemblies.map((a) => a.types[typeRef.fqn]).find(Boolean);
  if (!type) {
    // A type of another assembly (constructs' IConstruct, say): a class or an interface.
    return 'interface';
  }
  return type.kind === 'interface' && type.datatype ? 'struct' : type.kind;
}

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

/** This library's assembly (written by jsii) and aws-cdk-lib's. */
function loadAssemblies() {
  const { loadAssemblyFromFile } = require('@jsii/spec');
  const root = path.join(__dirname, '..', '..');
  return [path.join(root, '.jsii'), require.resolve('aws-cdk-lib/.jsii', { paths: [root] })].map((file) => loadAssemblyFromFile(file));
}

/** Known good and bad lines: each bad one must raise a problem, no good one may. */
function selfTest(assemblies) {
  const invalidation = ['cdk-cloudfront-invalidation.InvalidationTrigger#onChangeOf', 'cdk-cloudfront-invalidation.InvalidationPaths#changedFiles'];
  const cases = [
    ['go', 'Trigger: *cdkcloudfrontinvalidation.InvalidationTrigger_OnChangeOf(release),', invalidation, true],
    ['go', 'Trigger: *cdkcloudfrontinvalidation.InvalidationTrigger_OnDeployment(site),', undefined, true],
    ['go', 'Paths: *cdkcloudfrontinvalidation.InvalidationPaths_ChangedFiles(site, &ChangedFilesOptions{', invalidation, true],
    ['go', 'Paths: *cdkcloudfrontinvalidation.InvalidationPaths_OfDeployment(assets),', undefined, true],
    ['go', 'Sources: []ISource{ *s3deploy.Source_Asset(jsii.String("./site")) },', ['aws-cdk-lib.aws_s3_deployment.Source#asset'], true],
    ['go', 'Runtime: *lambda.Runtime_NODEJS_22_X(),', ['aws-cdk-lib.aws_lambda.Runtime#NODEJS_22_X'], true],
    ['go', 'Distribution: Distribution,', undefined, true],
    ['go', 'Trigger: cdkcloudfrontinvalidation.InvalidationTrigger_OnChangeOf(api.currentVersion.Version),', invalidation, true],
    ['go', 'Paths: cdkcloudfrontinvalidation.InvalidationPaths_*ChangedFiles(site, &ChangedFilesOptions{', invalidation, true],
    ['go', 'Paths: cdkcloudfrontinvalidation.InvalidationPaths_ChangedFiles(site, &ChangedFilesOptions{', invalidation, false],
    ['go', 'MaxPaths: jsii.Number(10 * 3),', undefined, false],
    ['go', 'Trigger: cdkcloudfrontinvalidation.InvalidationTrigger_OnChangeOf(release),', invalidation, false],
    ['go', 'paths := cdkcloudfrontinvalidation.InvalidationPaths_ChangedFiles(site, &ChangedFilesOptions{', invalidation, false],
    ['go', 'Paths: paths,', undefined, false],
    ['go', 'Value: *awscdk.Fn_Join(jsii.String(","), ids),', undefined, false],
    ['go', 'Origin: origins.S3BucketOrigin_WithOriginAccessControl(bucket),', undefined, false],
    ['go', '// *cdkcloudfrontinvalidation.InvalidationTrigger_OnChangeOf(x) dereferences; api.currentVersion', invalidation, false],
    ['go', 'DefaultRootObject: jsii.String("index.html"),', undefined, false],
    ['go', 'import s3deploy "github.com/aws/aws-cdk-go/awscdk/v2/awss3deployment"', undefined, false],
    ['java', '.trigger(InvalidationTrigger.onChangeOf(api.getCurrentVersion().getVersion()))', undefined, false],
    ['java', '.trigger(InvalidationTrigger.onChangeOf(api.currentVersion.version))', undefined, true],
    ['java', 'Object trigger = InvalidationTrigger.onChangeOf(release);', undefined, true],
    ['java', 'InvalidationTrigger trigger = InvalidationTrigger.onChangeOf(release);', undefined, false],
    ['java', 'String[] paths = InvalidationPaths.ofDeployment(assets);', undefined, true],
    ['java', 'List<String> paths = InvalidationPaths.ofDeployment(assets);', undefined, false],
    ['java', 'import software.amazon.awscdk.services.lambda.*;', undefined, false],
    ['java', '.defaultRootObject("index.html")', undefined, false],
    ['java', 'if (x === undefined) {}', undefined, true],
    ['csharp', 'Trigger = InvalidationTrigger.OnChangeOf(api.CurrentVersion.Version)', undefined, false],
    ['csharp', 'Trigger = InvalidationTrigger.OnChangeOf(api.currentVersion.Version)', undefined, true],
    ['csharp', 'using Amazon.CDK.AWS.Lambda;', undefined, false],
    ['csharp', 'VpcSubnets = new Struct { SubnetType = SubnetType.PRIVATE_WITH_EGRESS },', undefined, true],
    ['csharp', 'VpcSubnets = new SubnetSelection { SubnetType = SubnetType.PRIVATE_WITH_EGRESS },', undefined, false],
    ['go', '// One handler for all of them.\n// One handler for all of them.\nx := 1', undefined, true],
    ['java', 'build(); // no distribution\n // no distribution', undefined, true],
    ['python', '# a\n# b', undefined, false],
    ['python', 'trigger=InvalidationTrigger.on_change_of(api.current_version.version)', undefined, false],
    ['python', 'trigger=InvalidationTrigger.on_change_of(api.currentVersion.version)', undefined, true],
    ['python', 'max_paths=3000  # maxPaths=3000 in TypeScript', undefined, false],
    ['python', 'maxPaths=3000', undefined, true],
    ['python', 'value=f"{x}"', undefined, false],
  ];
  const failures = cases.filter(([language, line, referenced, bad]) => (translationProblems(language, line, assemblies, referenced).length > 0) !== bad)
    .map(([language, line, , bad]) => `self-test: the ${language} line ${JSON.stringify(line)} should ${bad ? '' : 'not '}raise a problem`);
  return { cases: cases.length, failures };
}

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
      problems.push(...translationProblems(language, source, assemblies, snippet.fqnsReferenced).map((p) => `${where}: ${p}`));
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
  console.log(`${Object.keys(tablet.snippets).length} README samples compile and translate to ${LANGUAGES.join(', ')} `
    + `(the check judged ${test.cases} known good and bad lines right first)`);
}

if (require.main === module) {
  main();
}

module.exports = { codeOnly, goProblems, otherProblems, translationProblems, selfTest, staticReturnKind };
