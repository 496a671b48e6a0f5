from locator.cli import main

# The guard matters: `python -m locator assign --engine dask` starts worker processes
# that import this module again (multiprocessing's spawn), and must not run the CLI.
if __name__ == "__main__":
    main()
