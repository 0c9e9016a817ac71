/* sealctl: the operators' command-line tool. Commands go to the running
 * daemon over MQTT (R/cmd/<op>); status and watch read what it publishes;
 * export reads its audit trail from the database, read-only. */
#include "ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEFAULT_CONFIG "/etc/sealbridge/sealbridge.ini"
#define DEFAULT_TIMEOUT_MS 10000

const char ctl_common_help[] =
	"common options (before or after the command):\n"
	"  -c, --config FILE      the daemon's settings file (default " DEFAULT_CONFIG
	" if it exists)\n"
	"      --uri URI          broker, e.g. tcp://127.0.0.1:1883 or ssl://host:8883\n"
	"      --username NAME    --password SECRET\n"
	"      --topic-root ROOT  topic root (default: the settings file's, else seal)\n"
	"      --timeout SECONDS  how long to wait for the broker and the daemon (default 10)\n"
	"  -h, --help\n";

static void usage(FILE *f)
{
	fputs("usage: sealctl [common options] COMMAND [options]\n"
	      "commands:\n"
	      "  admit     --household ID --district ID --street ID --community ID --end TIME\n"
	      "            [--start TIME] [--address LABEL] [--category C] [--persons N]\n"
	      "  release   --household ID [--reason TEXT]\n"
	      "  install   --device ID --household ID [--silence-after SECONDS]\n"
	      "            [--source S] [--gateway ID] [--model NAME]\n"
	      "  uninstall --device ID\n"
	      "  permit    (--household|--community|--street|--district) ID --until TIME\n"
	      "            [--from TIME] [--daily HH:MM-HH:MM] [--reason TEXT]   (prints permit_id)\n"
	      "  revoke    --permit ID\n"
	      "  ack       --alert ID --by ID [--note TEXT]\n"
	      "  resolve   --alert ID --by ID [--note TEXT] [--outcome false_alarm|errand|violation|device_fault|other]\n"
	      "  import    FILE.csv            admit (and install) every row\n"
	      "  status    [--community ID | --street ID | --district ID | --household ID]\n"
	      "  watch     [--level community|street|district] [--unit ID]\n"
	      "  export    --since TIME [--until TIME] [--db PATH]   audit trail as CSV\n"
	      "seal custody:\n"
	      "  register  --device ID [--model MODEL] [--batch ID] [--note TEXT] | --csv FILE\n"
	      "  allocate  --device ID (--community ID | --street ID)\n"
	      "  inspect   --device ID --result ok|faulty|lost [--note TEXT]\n"
	      "  swap      --household ID --device ID\n"
	      "  seals     [--community ID | --street ID] [--state STATE]\n"
	      "  collect-list --community ID   released households whose seal is still on the door\n"
	      "TIME: RFC 3339 (2026-11-29T04:00:00Z), integer seconds since the epoch, or\n"
	      "      relative to now: +2h, +30m, +14d, -1d (s, m, h, d)\n"
	      "exit codes: 0 ok, 1 the daemon answered with an error (import: a row failed),\n"
	      "            2 usage error, 3 no reply, cannot connect or cannot open the database\n"
	      "`sealctl COMMAND --help` tells more.\n",
	      f);
	fputs(ctl_common_help, f);
}

int ctl_common_opt(struct ctl *c, int opt, const char *arg)
{
	switch (opt) {
	case 'c':
		c->config_path = arg;
		return 1;
	case 0x101:
		c->uri = arg;
		return 1;
	case 0x102:
		c->username = arg;
		return 1;
	case 0x103:
		c->password = arg;
		return 1;
	case 0x104:
		c->topic_root = arg;
		return 1;
	case 0x105:
		if (config_parse_seconds(arg, 1, 3600 * 1000, &c->timeout_ms) < 0) {
			fprintf(stderr, "sealctl: --timeout '%s': expected seconds, more than 0 and at most 3600\n",
				arg);
			return -1;
		}
		return 1;
	default:
		return 0; /* getopt has said what was wrong */
	}
}

static int set_str(char *dst, const char *src, const char *what)
{
	size_t n = strlen(src);
	if (n >= CONFIG_STR_MAX) {
		fprintf(stderr, "sealctl: %s is too long\n", what);
		return -1;
	}
	memcpy(dst, src, n + 1);
	return 0;
}

int ctl_settle(struct ctl *c)
{
	char err[CONFIG_ERR_MAX];
	const char *path = c->config_path;
	if (!path && access(DEFAULT_CONFIG, F_OK) == 0)
		path = DEFAULT_CONFIG;
	if (path) {
		if (config_load(path, &c->cfg, err) < 0) {
			fprintf(stderr, "sealctl: %s", err);
			if (!err[0] || err[strlen(err) - 1] != '\n')
				fputc('\n', stderr);
			return CTL_EXIT_USAGE;
		}
	} else {
		config_defaults(&c->cfg);
	}
	if ((c->uri && set_str(c->cfg.mqtt.uri, c->uri, "--uri") < 0) ||
	    (c->username && set_str(c->cfg.mqtt.username, c->username, "--username") < 0) ||
	    (c->password && set_str(c->cfg.mqtt.password, c->password, "--password") < 0) ||
	    (c->topic_root && set_str(c->cfg.mqtt.topic_root, c->topic_root, "--topic-root") < 0))
		return CTL_EXIT_USAGE;
	const char *root = c->cfg.mqtt.topic_root;
	if (!root[0] || strpbrk(root, "+#") || root[0] == '/' || root[strlen(root) - 1] == '/') {
		fprintf(stderr, "sealctl: topic root '%s': must not be empty, hold + or #, or begin or end with /\n",
			root);
		return CTL_EXIT_USAGE;
	}
	unsigned char rnd[4];
	ctl_random(rnd, sizeof rnd);
	snprintf(c->tag, sizeof c->tag, "sealctl-%ld-%02x%02x%02x%02x", (long)getpid(), rnd[0], rnd[1], rnd[2],
		 rnd[3]);
	return 0;
}

int main(int argc, char **argv)
{
	static struct ctl c; /* large (struct config): not on the stack */
	static const struct option longopts[] = {CTL_COMMON_OPTS, {0, 0, 0, 0}};
	int opt;

	c.timeout_ms = DEFAULT_TIMEOUT_MS;
	config_defaults(&c.cfg);
	while ((opt = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
		if (opt == 'h') {
			usage(stdout);
			return CTL_EXIT_OK;
		}
		if (ctl_common_opt(&c, opt, optarg) != 1) {
			fputs("try sealctl --help\n", stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	char **sub = argv + optind;
	int nsub = argc - optind;
	const char *cmd = sub[0];
	int custody_rc;
	if (ctl_custody_dispatch(&c, nsub, sub, &custody_rc))
		return custody_rc;
	if (ctl_is_op(cmd))
		return ctl_cmd_op(&c, nsub, sub);
	if (strcmp(cmd, "import") == 0)
		return ctl_cmd_import(&c, nsub, sub);
	if (strcmp(cmd, "status") == 0)
		return ctl_cmd_status(&c, nsub, sub);
	if (strcmp(cmd, "watch") == 0)
		return ctl_cmd_watch(&c, nsub, sub);
	if (strcmp(cmd, "export") == 0)
		return ctl_cmd_export(&c, nsub, sub);
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return CTL_EXIT_OK;
	}
	fprintf(stderr, "sealctl: unknown command '%s'; try sealctl --help\n", cmd);
	return CTL_EXIT_USAGE;
}
