// The longest functions of src/ (tests excluded), measured with the TypeScript parser: every
// function declaration, method, accessor, constructor, function expression and arrow function,
// by its lines from the first to the last of its body. Prints figures; asserts nothing.
//   node bench/longest-functions.ts [--over 100] [--top 20] [--json]
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import ts from 'typescript';

const { values } = parseArgs({
  options: {
    over: { type: 'string', default: '100' },
    top: { type: 'string', default: '20' },
    json: { type: 'boolean', default: false },
    root: { type: 'string', default: join(import.meta.dirname, '..', 'src') },
  },
});
const overLines = Number(values.over);
const top = Number(values.top);

interface FunctionSize {
  readonly file: string;
  readonly name: string;
  readonly line: number;
  readonly lines: number;
}

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => join(e.parentPath, e.name))
    .sort();
}

function nameOf(node: ts.Node, source: ts.SourceFile): string {
  if (
    (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isGetAccessor(node)) &&
    node.name !== undefined
  ) {
    const owner = ts.isClassLike(node.parent) && node.parent.name ? `${node.parent.name.text}.` : '';
    return owner + node.name.getText(source);
  }
  if (ts.isConstructorDeclaration(node) && ts.isClassLike(node.parent)) {
    return `${node.parent.name?.text ?? '(class)'}.constructor`;
  }
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) {
    return parent.name.getText(source);
  }
  return '(anonymous)';
}

function measure(file: string, text: string): FunctionSize[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const sizes: FunctionSize[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body !== undefined) {
      const body = node.body as ts.Node;
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(body.getEnd()).line;
      sizes.push({ file, name: nameOf(node, source), line: first + 1, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return sizes;
}

const root = values.root;
const all: FunctionSize[] = [];
for (const file of await sourceFiles(root)) {
  all.push(...measure(relative(join(root, '..'), file), await readFile(file, 'utf8')));
}
all.sort((a, b) => b.lines - a.lines);
const over = all.filter((f) => f.lines > overLines);

if (values.json) {
  console.log(JSON.stringify({ overLines, functions: all.length, over }, null, 2));
} else {
  console.log(
    `${all.length.toString()} functions in ${root}; ${over.length.toString()} over ${overLines.toString()} lines`,
  );
  for (const f of all.slice(0, Math.max(top, over.length))) {
    console.log(`${f.lines.toString().padStart(5)}  ${f.file}:${f.line.toString()}  ${f.name}`);
  }
}
