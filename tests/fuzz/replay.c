/*
 * Replay a corpus without libFuzzer: run the driver once on each file
 * named, or on each file of each folder named.  Built with the sanitizers,
 * this is how make test checks every committed corpus on any compiler.
 */
#include <dirent.h>
#include <stdio.h>
#include <sys/stat.h>

#include "fuzz.h"

#define INPUT_MAX (16 * 1024 * 1024)

static int
run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	size_t n;

	if (f == NULL) {
		perror(path);
		return -1;
	}
	buf = malloc(INPUT_MAX);
	if (buf == NULL)
		abort();
	n = fread(buf, 1, INPUT_MAX, f);
	fclose(f);
	/* An exact-size copy, so ASan sees reads past the end. */
	{
		uint8_t *in = malloc(n ? n : 1);

		if (in == NULL)
			abort();
		memcpy(in, buf, n);
		free(buf);
		LLVMFuzzerTestOneInput(in, n);
		free(in);
	}
	return 0;
}

int
main(int argc, char *argv[])
{
	struct dirent *de;
	struct stat st;
	char path[4096];
	DIR *d;
	int i, runs = 0;

	for (i = 1; i < argc; i++) {
		if (stat(argv[i], &st) == -1 || !S_ISDIR(st.st_mode)) {
			if (run_file(argv[i]) == 0)
				runs++;
			continue;
		}
		d = opendir(argv[i]);
		if (d == NULL)
			return 1;
		while ((de = readdir(d)) != NULL) {
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i],
			    de->d_name);
			if (run_file(path) == 0)
				runs++;
		}
		closedir(d);
	}
	printf("replayed %d inputs\n", runs);
	return runs > 0 ? 0 : 1;
}
