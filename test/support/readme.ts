import { readFileSync } from 'node:fs';

/** One shell command of a README code block, and the output the README shows after it. */
export interface ReadmeCommand {
  readonly words: string[];
  /** The comment lines that follow the command, without their `# ` (what the README says it prints). */
  readonly shown: string[];
}

/** Splits a shell snippet into commands of words: quotes, backslash-newlines and comments as sh does. */
export function commands(block: string): ReadmeCommand[] {
  const out: ReadmeCommand[] = [];
  let words: string[] = [];
  let word: string | undefined;
  const endWord = () => {
    if (word !== undefined) words.push(word);
    word = undefined;
  };
  const endCommand = () => {
    endWord();
    if (words.length > 0) out.push({ words, shown: [] });
    words = [];
  };
  for (let i = 0; i < block.length; i++) {
    const ch = block[i]!;
    if (ch === '\\' && block[i + 1] === '\n') i++;
    else if (ch === "'" || ch === '"') {
      const close = block.indexOf(ch, i + 1);
      // (a code fence left open takes prose into the block; without this it loops for ever)
      if (close < 0) throw new Error(`unclosed ${ch} in a README code block: ${block.slice(Math.max(0, i - 60), i + 60)}`);
      word = (word ?? '') + block.slice(i + 1, close);
      i = close;
    } else if (ch === '#' && word === undefined) {
      const newline = block.indexOf('\n', i);
      const end = newline < 0 ? block.length : newline;
      // A comment on a line of its own is output shown for the command before it.
      if (words.length === 0) out.at(-1)?.shown.push(block.slice(i + 1, end).replace(/^ /, ''));
      i = end - 1; // the newline still ends the command
    } else if (ch === '\n') endCommand();
    else if (ch === ' ' || ch === '\t') endWord();
    else word = (word ?? '') + ch;
  }
  endCommand();
  return out;
}

/** The text of a `## title` section of README.md, up to the next `## `. */
export function readmeSection(title: string, file = 'README.md'): string {
  const readme = readFileSync(file, 'utf8');
  const start = readme.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`${file} has no "## ${title}" section`);
  const end = readme.indexOf('\n## ', start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

/** The fenced code blocks of a text in one language. */
export function codeBlocks(text: string, language: string): string[] {
  return [...text.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((m) => m[1]!);
}

/** The grpcurl commands of a README section's `sh` blocks, in order. */
export function grpcurlCommands(title: string): ReadmeCommand[] {
  return grpcurlOf(readmeSection(title));
}

/** The walkthrough's file: every RPC as one story, run after the README's sections. */
export const WALKTHROUGH = 'docs/grpcurl.md';

/** The grpcurl commands of a whole markdown file (the walkthrough), in order. */
export function grpcurlCommandsIn(file: string): ReadmeCommand[] {
  return grpcurlOf(readFileSync(file, 'utf8'));
}

function grpcurlOf(markdown: string): ReadmeCommand[] {
  return codeBlocks(markdown, 'sh')
    .flatMap(commands)
    .filter((c) => c.words[0] === 'grpcurl');
}

/**
 * The `ts` blocks of a markdown file as one program, in order: their imports merged at the
 * top, the first block at top level (it makes the client the others use), every later
 * block in a scope of its own so that examples may reuse names.
 */
export function typescriptProgram(markdown: string): { source: string; blocks: number } {
  const blocks = codeBlocks(markdown, 'ts');
  const imports = new Map<string, Set<string>>();
  const bodies = blocks.map((block, i) => {
    const body = block
      .split('\n')
      .filter((line) => {
        const m = /^import \{ (.*) \} from '([^']+)';/.exec(line);
        if (m === null) return true;
        const names = imports.get(m[2]!) ?? new Set<string>();
        for (const name of m[1]!.split(',')) if (name.trim() !== '') names.add(name.trim());
        imports.set(m[2]!, names);
        return false;
      })
      .join('\n');
    return i === 0 ? body : `{\n${body}\n}`;
  });
  const head = [...imports].map(([module, names]) => `import { ${[...names].join(', ')} } from '${module}';`);
  return { source: [...head, ...bodies].join('\n'), blocks: blocks.length };
}
