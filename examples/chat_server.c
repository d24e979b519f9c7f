/*
 * chat_server.c - netlab's chat server from plain C, linked through pkg-config:
 *
 *   cc -o chat_server chat_server.c $(pkg-config --cflags --libs netlab)
 *   ./chat_server 7000          (port 0: any free port; SIGINT/SIGTERM stop it)
 *
 * The same call the Swift `chatserver` makes: every socket, the poll() loop and
 * the protocol live in libnetlab; the program supplies options and a log sink.
 */
#include <netlab.h>
#include <stdio.h>
#include <stdlib.h>

static void log_line(void *ud, const char *line)
{
    FILE *f = ud;
    fprintf(f, "%s\n", line);
    fflush(f);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s PORT\n", argv[0]);
        return 64;
    }
    char *end;
    long port = strtol(argv[1], &end, 10);
    if (*end || port < 0 || port > 65535) {
        fprintf(stderr, "chat_server: %s: give a port 0-65535\n", argv[1]);
        return 64;
    }
    struct nl_chat_config cfg;
    nl_chat_config_init(&cfg);
    cfg.host = "127.0.0.1";
    cfg.port = (uint16_t)port;
    cfg.handle_signals = 1;
    cfg.log = log_line;
    cfg.log_ud = stdout;
    char err[NL_ERRBUF_SIZE];
    if (nl_chat_server_run(&cfg, err) < 0) {
        fprintf(stderr, "chat_server: %s\n", err);
        return 1;
    }
    return 0;
}
