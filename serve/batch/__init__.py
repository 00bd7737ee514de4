"""The batch command: `python -m serve.batch PATH... -o predictions.csv`.

Predicts every image in folder trees, with the same preprocessing and answers as /predict,
into one row per image, sorted by path: CSV for an output ending in .csv, JSON Lines for
.jsonl (or .ndjson); any other name is a usage error. Folders are walked recursively;
image files (by extension) are predicted, other files are skipped and counted. A broken
image gets a row with its error and the run goes on. With --read number each row also
holds every digit of the image, read left to right.

Only regular files are read: a named pipe, a broken symbolic link, a link loop, a file
gone or unreadable by the time it is read each get a row with the reason. Symbolic links to
folders are not followed (os.walk's default), so a link to a parent cannot loop forever.

The rows are made by a pool of processes on this machine's cores (local.py), or with
--engine ray on Ray Data, which also reads buckets (ray_data.py). The modules, each using
only those after it:

    cli.py       the command line: options, checks, the run, the summary line
    local.py     the local engine: a pool of worker processes, each with a RowMaker
    ray_data.py  the Ray engine: Ray Data actors, each a RowMaker
    output.py    writing the rows: CSV or JSON Lines
    rows.py      the columns, and RowMaker: a chunk of files -> their rows
    files.py     finding the images (folders, buckets) and reading one file safely

Exit status: 0 when every image was predicted, 1 when any failed, 2 for a usage error
(one line, found before any work: the arguments, the output's place, the model loaded once).
"""
