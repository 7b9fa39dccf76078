/**
 * What jsii's assemblies say about the types a translated sample uses: this library's assembly and
 * aws-cdk-lib's, and what a static method or property of theirs returns (the Go rules need it).
 */
'use strict';

const path = require('path');

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

/** This library's assembly (written by jsii) and aws-cdk-lib's. */
function loadAssemblies() {
  const { loadAssemblyFromFile } = require('@jsii/spec');
  const root = path.join(__dirname, '..', '..');
  return [path.join(root, '.jsii'), require.resolve('aws-cdk-lib/.jsii', { paths: [root] })].map((file) => loadAssemblyFromFile(file));
}

module.exports = { loadAssemblies, staticReturnKind };
