import chardet from 'chardet';

export type TextEncoding = 'utf-8' | 'gb18030' | 'utf-16le' | 'utf-16be';

export interface DetectedEncoding {
  encoding: TextEncoding;
  /** How it was decided, for the read log. */
  how: string;
}

/**
 * The encoding of a CSV from its first bytes. A BOM decides; then UTF-8 if the bytes are UTF-8 (a rare bad
 * sequence in a UTF-8 file stays UTF-8, and its rows are reported as undecodable); otherwise GB18030, which
 * decodes GBK and GB2312 exactly (it is their superset) — the encodings Chinese government systems export.
 * chardet's guess is kept in `how`. An explicit setting wins over all of this.
 */
export function detectEncoding(sample: Buffer, setting: 'auto' | 'utf-8' | 'gbk' | 'gb18030' = 'auto'): DetectedEncoding {
  if (setting === 'utf-8') return { encoding: 'utf-8', how: 'configured' };
  if (setting === 'gbk' || setting === 'gb18030') return { encoding: 'gb18030', how: `configured ${setting} (decoded as GB18030, its superset)` };
  if (sample[0] === 0xef && sample[1] === 0xbb && sample[2] === 0xbf) return { encoding: 'utf-8', how: 'UTF-8 BOM' };
  if (sample[0] === 0xff && sample[1] === 0xfe) return { encoding: 'utf-16le', how: 'UTF-16LE BOM' };
  if (sample[0] === 0xfe && sample[1] === 0xff) return { encoding: 'utf-16be', how: 'UTF-16BE BOM' };
  if (sample[0] === 0x84 && sample[1] === 0x31 && sample[2] === 0x95 && sample[3] === 0x33) return { encoding: 'gb18030', how: 'GB18030 BOM' };
  // Ignore a character cut by the end of the sample.
  const text = new TextDecoder('utf-8').decode(sample.length >= 65536 ? sample.subarray(0, sample.length - 4) : sample);
  let bad = 0;
  let multibyte = 0;
  for (const ch of text) {
    if (ch === '\uFFFD') bad++;
    else if (ch.charCodeAt(0) > 0x7f) multibyte++;
  }
  if (bad === 0) return { encoding: 'utf-8', how: multibyte ? 'valid UTF-8' : 'ASCII' };
  if (bad / (bad + multibyte) < 0.02) return { encoding: 'utf-8', how: `UTF-8 with ${bad} undecodable sequences` };
  const guess = chardet.detect(sample);
  if (guess === 'UTF-16LE') return { encoding: 'utf-16le', how: 'chardet UTF-16LE' };
  if (guess === 'UTF-16BE') return { encoding: 'utf-16be', how: 'chardet UTF-16BE' };
  return { encoding: 'gb18030', how: `not UTF-8; GB18030 (chardet guessed ${guess ?? 'nothing'})` };
}
