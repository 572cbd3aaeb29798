/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * ifd-openloop: the socket of openloop-sim, as both ends see it.
 *
 * SOCK_SEQPACKET, one datagram per report with hidraw's byte layout:
 * host -> device 65 bytes (report ID 0, then the report), device -> host
 * 64 bytes.  Besides reports, one control message, which hidraw does
 * not need:
 *
 * DRAIN (host -> device, then device -> host): on hidraw every unread
 * input report waits in the host's kernel, so reading until EAGAIN
 * empties the queue.  Behind the socket most of them wait in the
 * simulator (the kernel queues only a few datagrams per socket), where no
 * read reaches them.  A host that found stale reports sends DRAIN; the
 * simulator drops what it still holds for that client and answers DRAIN,
 * in order with the reports, so everything read before the answer is
 * stale.  Its length, 2 bytes, is no report's.
 */
#ifndef OL_SIM_SOCKET_H
#define OL_SIM_SOCKET_H

#define OL_SIM_SOCKET_DRAIN_LEN 2
#define OL_SIM_SOCKET_DRAIN     { 0xff, 'D' }

#endif
