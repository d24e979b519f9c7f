/*
 * netlab.h - the umbrella header of libnetlab, netlab's C core.
 * C programs: #include <netlab.h> and link with `pkg-config --cflags --libs netlab`.
 * Swift reaches the same API as the module CNetlab (include/module.modulemap).
 */
#ifndef NETLAB_H
#define NETLAB_H

#define NETLAB_VERSION "0.1.0"

#include "netlab/nl_error.h"
#include "netlab/nl_cursor.h"
#include "netlab/nl_checksum.h"
#include "netlab/nl_ipv4.h"
#include "netlab/nl_tcp.h"
#include "netlab/nl_csv.h"
#include "netlab/nl_build.h"
#include "netlab/nl_craft.h"
#include "netlab/nl_explain.h"
#include "netlab/nl_pcapw.h"
#include "netlab/nl_outfile.h"
#include "netlab/nl_time.h"
#include "netlab/nl_inject.h"
#include "netlab/nl_signal.h"
#include "netlab/nl_link.h"
#include "netlab/nl_capture.h"
#include "netlab/nl_roundtrip.h"
#include "netlab/nl_deliver.h"
#include "netlab/nl_proc.h"
#include "netlab/nl_labnet.h"
#include "netlab/nl_doctor.h"
#include "netlab/nl_pcapr.h"
#include "netlab/nl_ipv6.h"
#include "netlab/nl_udp.h"
#include "netlab/nl_icmp.h"
#include "netlab/nl_decode.h"
#include "netlab/nl_analyze.h"
#include "netlab/nl_tcpanalysis.h"
#include "netlab/nl_flowgraph.h"
#include "netlab/nl_buf.h"
#include "netlab/nl_text.h"
#include "netlab/nl_line.h"
#include "netlab/nl_loop.h"
#include "netlab/nl_sock.h"
#include "netlab/nl_conn.h"
#include "netlab/nl_log.h"
#include "netlab/nl_chat.h"
#include "netlab/nl_chatclient.h"
#include "netlab/nl_echo.h"
#include "netlab/nl_answers.h"

#endif
