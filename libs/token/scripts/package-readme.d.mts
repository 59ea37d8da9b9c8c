/** `git+https://github.com/owner/repo.git` → `https://github.com/owner/repo`. */
export function repositoryWebUrl(repositoryUrl: string): string;
/** The root README with every relative link pointing into the repository. */
export function packageReadme(readme: string, repositoryUrl: string): string;
