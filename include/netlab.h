/*
 * netlab.h - the umbrella header of libnetlab, netlab's C core.
 * C programs: #include <netlab.h> and link with `pkg-config --cflags --libs netlab`.
 * Swift reaches the same API as the module CNetlab (include/module.modulemap).
 */
#ifndef NETLAB_H
#define NETLAB_H

#define NETLAB_VERSION "0.1.0"

/* The halves of libnetlab (docs/ARCHITECTURE.md), lowest first. Who may include whom:
 * base <- wire <- pcap <- craft <- analyze; apps uses base only; lab uses every half;
 * prove uses base, wire, pcap and craft.
 * scripts/check-layout.sh reads these groups and every #include of CSources/ to check it. */

/* ---- half: base - errors, bytes and text: no network knowledge (CSources/netlab/base/) ---- */
#include "netlab/nl_api.h"
#include "netlab/nl_error.h"
#include "netlab/nl_cursor.h"
#include "netlab/nl_checksum.h"
#include "netlab/nl_buf.h"
#include "netlab/nl_text.h"
#include "netlab/nl_line.h"
#include "netlab/nl_signal.h"
#include "netlab/nl_time.h"
#include "netlab/nl_outfile.h"
#include "netlab/nl_zip.h"

/* ---- half: wire - one protocol header each, read through the cursor (CSources/netlab/wire/) ---- */
#include "netlab/nl_link.h"
#include "netlab/nl_ipv4.h"
#include "netlab/nl_ipv6.h"
#include "netlab/nl_tcp.h"
#include "netlab/nl_udp.h"
#include "netlab/nl_icmp.h"

/* ---- half: pcap - capture files and live capture (CSources/netlab/pcap/) ---- */
#include "netlab/nl_pcapr.h"
#include "netlab/nl_pcapw.h"
#include "netlab/nl_capture.h"

/* ---- half: craft - messages to packets: CSV, planner, builders, injection (CSources/netlab/craft/) ---- */
#include "netlab/nl_csv.h"
#include "netlab/nl_build.h"
#include "netlab/nl_craft.h"
#include "netlab/nl_explain.h"
#include "netlab/nl_inject.h"
#include "netlab/nl_roundtrip.h"
#include "netlab/nl_deliver.h"

/* ---- half: analyze - captures to conversations and answers (CSources/netlab/analyze/) ---- */
#include "netlab/nl_decode.h"
#include "netlab/nl_analyze.h"
#include "netlab/nl_tcpanalysis.h"
#include "netlab/nl_flowgraph.h"
#include "netlab/nl_answers.h"
#include "netlab/nl_rubric.h"
#include "netlab/nl_classgrade.h"

/* ---- half: apps - socket applications on one poll() loop (CSources/netlab/apps/) ---- */
#include "netlab/nl_loop.h"
#include "netlab/nl_sock.h"
#include "netlab/nl_conn.h"
#include "netlab/nl_log.h"
#include "netlab/nl_chat.h"
#include "netlab/nl_chatclient.h"
#include "netlab/nl_echo.h"

/* ---- half: lab - processes, namespaces, preflight: uses every other half (CSources/netlab/lab/) ---- */
#include "netlab/nl_proc.h"
#include "netlab/nl_labnet.h"
#include "netlab/nl_doctor.h"
#include "netlab/nl_chatcap.h"

/* ---- half: prove - TCP experiments on the running kernel in packetdrill's language (CSources/netlab/prove/) ---- */
#include "netlab/nl_prove.h"

#endif
