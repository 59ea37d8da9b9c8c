// The package's README is the repository's README. Run by `prepack` (from libs/token): writes
// libs/token/README.md from the root README.md, with its relative links made absolute, because npm
// shows the README away from the repository (relative links would break there).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `git+https://github.com/owner/repo.git` → `https://github.com/owner/repo`. */
export function repositoryWebUrl(repositoryUrl) {
  const url = repositoryUrl.replace(/^git\+/, '').replace(/\.git$/, '');
  if (!/^https:\/\/github\.com\/[^/]+\/[^/]+$/.test(url)) throw new Error(`not a GitHub repository: ${url}`);
  return url;
}

/**
 * The root README with every relative link pointing into the repository: images to their raw file,
 * other targets to their page on GitHub (default branch). Links in code blocks are left alone.
 */
export function packageReadme(readme, repositoryUrl) {
  const web = repositoryWebUrl(repositoryUrl);
  const raw = web.replace('https://github.com/', 'https://raw.githubusercontent.com/');
  let fenced = false;
  return readme
    .split('\n')
    .map((line) => {
      if (/^\s*```/.test(line)) fenced = !fenced;
      if (fenced) return line;
      return line.replace(
        /(!?)\[([^\]]*)\]\((?!https?:|mailto:|#)([^)\s]+)\)/g,
        (_match, bang, text, target) =>
          bang ? `![${text}](${raw}/HEAD/${target})` : `[${text}](${web}/blob/HEAD/${target})`,
      );
    })
    .join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const lib = join(dirname(fileURLToPath(import.meta.url)), '..');
  const pkg = JSON.parse(readFileSync(join(lib, 'package.json'), 'utf8'));
  const readme = readFileSync(join(lib, '..', '..', 'README.md'), 'utf8');
  writeFileSync(join(lib, 'README.md'), packageReadme(readme, pkg.repository.url));
}
