//! Reading vendored fixture trees (real catalogs, manifests, lock files) as
//! a repository import sees them: every file with its path from the root.

use std::path::Path;

/// Every file under `root` as (`path/from/root`, text), sorted by path.
/// Panics on an unreadable tree: a fixture that cannot be read is a broken test.
pub fn tree(root: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let relative = path.strip_prefix(root).expect("under the root").to_string_lossy().replace('\\', "/");
                let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                files.push((relative, text));
            }
        }
    }
    files.sort();
    files
}
