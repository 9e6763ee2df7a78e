/* config.c - the INI config file (libinih): keys are the long option names, sections scope them to a command. */
#include "options.h"

#include <errno.h>
#include <ini.h>
#include <stdio.h>
#include <string.h>

struct config_ctx {
	struct options *o;
	const char *path;
	struct err *e;
	bool failed;
};

/* Keys in gen's or bench's own sections are theirs: the file may serve every command. */
static bool section_applies(const char *section, enum command cmd)
{
	if (section[0] == '\0')
		return true;
	if (strcmp(section, "load") == 0)
		return cmd == CMD_LOAD;
	if (strcmp(section, "run") == 0)
		return cmd == CMD_RUN;
	return false;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
	struct config_ctx *c = user;
	if (c->failed)
		return 0;
	if (strcmp(section, "") != 0 && strcmp(section, "load") != 0 && strcmp(section, "run") != 0) {
		err_set(c->e, EXIT_CONFIG, "%s: unknown section [%s] (use [load] or [run])", c->path, section);
		c->failed = true;
		return 0;
	}
	const char *where = section[0] ? section : "top level";
	if (!section_applies(section, c->o->cmd)) {
		/* Not this command's section: its keys are still checked, so a typo
		 * in [load] shows in the run that reads the file too. */
		enum command other = strcmp(section, "load") == 0 ? CMD_LOAD : CMD_RUN;
		if (options_known(name, other))
			return 1;
		err_set(c->e, EXIT_CONFIG, "%s: [%s] %s: unknown key \"%s\"", c->path, where, name, name);
		c->failed = true;
		return 0;
	}
	struct err ke;
	err_clear(&ke);
	if (options_set(c->o, name, value, &ke) < 0) {
		err_set(c->e, ke.code ? ke.code : EXIT_CONFIG, "%s: [%s] %s: %s", c->path, where, name, ke.msg);
		c->failed = true;
		return 0;
	}
	return 1;
}

int config_read(struct options *o, const char *path, struct err *e)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return err_set(e, EXIT_CONFIG, "cannot read config %s: %s", path, strerror(errno));
	struct config_ctx c = {o, path, e, false};
	int rc = ini_parse_file(f, on_key, &c);
	fclose(f);
	if (c.failed)
		return -1;
	if (rc > 0)
		return err_set(e, EXIT_CONFIG, "%s: line %d: not an INI key = value line", path, rc);
	if (rc < 0)
		return err_set(e, EXIT_CONFIG, "cannot read config %s", path);
	return 0;
}
