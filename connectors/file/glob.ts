/**
 * A glob as a regular expression over a relative path with `/` separators: `*` and `?` stay inside one
 * path segment, `**` crosses segments, `{a,b}` alternates, `[...]` is a character class. Case-insensitive
 * (drops often come from Windows machines, `.CSV` and `.csv` alike). A pattern without `/` matches the
 * file name alone, at any depth.
 */
export function globToRegExp(pattern: string): RegExp {
  let out = '';
  let braces = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        if (pattern[i + 1] === '/') { i++; out += '(?:.*/)?'; } else out += '.*';
      } else out += '[^/]*';
    } else if (c === '?') out += '[^/]';
    else if (c === '{') { braces++; out += '(?:'; }
    else if (c === '}' && braces > 0) { braces--; out += ')'; }
    else if (c === ',' && braces > 0) out += '|';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) out += '\\[';
      else { out += `[${pattern.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`; i = end; }
    } else out += c.replace(/[.+^$()|\\\]]/g, '\\$&');
  }
  if (braces) throw new Error(`unbalanced "{" in pattern "${pattern}"`);
  return new RegExp(`^${out}$`, 'i');
}

export function matcher(pattern: string): (relativePath: string) => boolean {
  const re = globToRegExp(pattern);
  const onName = !pattern.includes('/');
  return (p) => re.test(onName ? p.slice(p.lastIndexOf('/') + 1) : p);
}
