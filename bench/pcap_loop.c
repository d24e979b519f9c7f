/*
 * pcap_loop.c - the limit analyze is measured against: libpcap's pcap_next_ex
 * over every packet of a file, touching nothing but the header (caplen summed so
 * the loop cannot be optimised away).
 *
 *   cc -O2 -o pcap_loop bench/pcap_loop.c -lpcap && ./pcap_loop FILE
 */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    char err[PCAP_ERRBUF_SIZE];
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 64;
    }
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (!p) {
        fprintf(stderr, "pcap_loop: %s\n", err);
        return 1;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    unsigned long long n = 0, bytes = 0;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        n++;
        bytes += h->caplen;
    }
    if (rc == PCAP_ERROR)
        fprintf(stderr, "pcap_loop: %s\n", pcap_geterr(p));
    pcap_close(p);
    printf("%llu packets, %llu bytes\n", n, bytes);
    return rc == PCAP_ERROR;
}
