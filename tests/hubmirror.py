"""Write datasets in their Hugging Face Hub layout into a local mirror folder.

A mirrored repository is what ``git clone https://huggingface.co/datasets/<id>`` gives:
one folder per config holding ``<split>-00000-of-00001.parquet`` files and a README.md whose
YAML ``configs`` block maps configs and splits to files. ``datasets.load_dataset`` reads it
exactly as it reads the hub. Each repository is committed to git so that its revision is a
real commit hash.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import datasets


def write_repo(mirror: Path, dataset_id: str,
               configs: dict[str, dict[str, datasets.Dataset]]) -> str:
    """Write one repository; return its git commit."""
    repo = mirror / dataset_id
    repo.mkdir(parents=True, exist_ok=True)
    lines = ["---", "configs:"]
    for config, splits in sorted(configs.items()):
        lines += [f"- config_name: {config}", "  data_files:"]
        for split, data in sorted(splits.items()):
            path = f"{config}/{split}-00000-of-00001.parquet"
            (repo / config).mkdir(parents=True, exist_ok=True)
            data.to_parquet(str(repo / path))
            lines += [f"  - split: {split}", f"    path: {path}"]
    lines += ["---", f"# {dataset_id} (local mirror for tests)", ""]
    (repo / "README.md").write_text("\n".join(lines), encoding="utf-8")
    git = ["git", "-C", str(repo), "-c", "user.name=xstilts", "-c", "user.email=x@localhost"]
    if not (repo / ".git").exists():
        subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "mirror"], check=True)
    return subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True,
                          text=True).stdout.strip()
