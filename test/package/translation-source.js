/**
 * Reads a translated sample as code: its string literals and comments blanked out, and the lines
 * that declare imports or a package told apart. Used by the translation rules (translation-rules.js).
 */
'use strict';

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


module.exports = { codeOnly, DECLARATION };
