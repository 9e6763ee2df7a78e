/* journal_state_dir.c - where the journals live: --state-dir, systemd's STATE_DIRECTORY, XDG_STATE_HOME or ~/.local/state, created 0700. */
#include "journal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* mkdir -p with mode 0700 for every directory it creates. */
static int mkdir_p(char *path)
{
	for (char *s = path + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		int rc = mkdir(path, 0700);
		*s = '/';
		if (rc != 0 && errno != EEXIST)
			return -1;
	}
	if (mkdir(path, 0700) != 0 && errno != EEXIST)
		return -1;
	struct stat st;
	if (stat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode)) {
		errno = ENOTDIR;
		return -1;
	}
	return 0;
}

int journal_state_dir(const char *opt, char *out, size_t outsz, struct err *e)
{
	const char *from;
	int n = -1;
	const char *v;
	if (opt != NULL && opt[0]) {
		from = "--state-dir";
		n = snprintf(out, outsz, "%s", opt);
	} else if ((v = getenv("STATE_DIRECTORY")) != NULL && v[0] && v[0] != ':') {
		from = "$STATE_DIRECTORY";
		n = snprintf(out, outsz, "%.*s", (int)strcspn(v, ":"), v);
	} else if ((v = getenv("XDG_STATE_HOME")) != NULL && v[0] == '/') {
		from = "$XDG_STATE_HOME";
		n = snprintf(out, outsz, "%s/edonu-ingest", v);
	} else if ((v = getenv("HOME")) != NULL && v[0]) {
		from = "$HOME";
		n = snprintf(out, outsz, "%s/.local/state/edonu-ingest", v);
	} else {
		return err_set(e, EXIT_CONFIG,
			       "no state directory: set --state-dir (or STATE_DIRECTORY, XDG_STATE_HOME or HOME)");
	}
	if (n < 0 || (size_t)n >= outsz)
		return err_set(e, EXIT_CONFIG, "state directory from %s is too long", from);
	/* Strip trailing slashes so mkdir_p and messages see one form. */
	while (n > 1 && out[n - 1] == '/')
		out[--n] = '\0';
	if (mkdir_p(out) != 0)
		return err_set(e, EXIT_CONFIG, "state directory %s (from %s): %s", out, from, strerror(errno));
	return 0;
}
