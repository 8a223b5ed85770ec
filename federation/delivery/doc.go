// Package delivery is the durable outgoing delivery queue: one job per
// (activity, inbox) kept in the store, claimed by workers with leases so that
// several replicas can share one database, retried with backoff for days, and
// a per-host failure tracker that stops wasting work on dead servers.
//
// # Files
//
//   - queue.go: the Queue and its job documents, New, and Enqueue (with the
//     insert-only dedupe against delivery_seen).
//   - options.go: Options and their defaults.
//   - index.go: the in-memory index of live jobs claims are taken from,
//     and its rescan.
//   - claims.go: leases taken by inserting a claim key with a unique _id,
//     and why claims are inserts rather than updates; follow, which learns
//     another replica's claim or outcome from its keys.
//   - worker.go: Run, the dispatcher and workers, one signed POST, how its
//     answer is classified, and the retry backoff.
//   - record.go: what a finished attempt writes: a "done" key when
//     delivered, back to pending for a retry, or moved to delivery_dead.
//   - purge.go: deleting finished jobs' documents, many with one command.
//   - housekeeping.go: periodic refresh, flush and pruning.
//   - hosts.go: the per-host failure tracker (failure days, unavailable
//     hosts, revival by a success or MarkAlive).
//   - stats.go: Stats and the per-replica delivered/skipped counters.
//
// Store layout (see docs/architecture.md and design §3):
//
//   - delivery_jobs: live jobs (pending or leased), and finished ones until
//     the next purge (purge.go: seconds). Done jobs are deleted and
//     exhausted or rejected jobs are moved out, so that the scan of the
//     collection at start and on each rescan (index.go) stays short.
//   - delivery_bodies: the exact bytes to POST, once per activity (a fan-out
//     to 500 inboxes stores one body, and job documents stay small).
//   - delivery_dead: jobs given up on, with their body, kept for inspection
//     (pruned after Options.DeadRetention).
//   - delivery_hosts: per-host last success and failure, cached in memory
//     and refreshed periodically.
//   - delivery_host_days: one document per host and UTC day with an
//     exhausted delivery since the host's last success; a host with
//     Options.DeadHostDays of them is unavailable. Inserted and deleted,
//     never updated: an update is read-then-write on the embedded store, so
//     a failure recorded alongside a concurrent success could write the
//     cleared days back and mark a live host unavailable.
//   - delivery_claims: one tiny document per state change of a job (see
//     claims.go), pruned after a day.
//   - delivery_seen: one tiny marker per enqueued job, so that enqueueing
//     again adds nothing after the job is done (pruned after DedupeWindow).
//   - delivery_stats: running totals (delivered, skipped), one document per
//     replica, flushed in batches.
//
// Every state change of a job is owned by whoever inserts its claim key
// first (claims.go explains why an insert and not an update).
//
// Delivery is at-least-once: a replica that stalls past its lease may still
// POST after another replica has; receivers dedupe by activity id.
//
// Claims do not query the store: each replica keeps the live jobs it knows
// of in memory (index.go), rebuilt by one scan of delivery_jobs at start and
// every Options.Rescan, and kept current by its own Enqueue and outcomes. A
// claim takes the next due jobs from that index and leases them with one
// batched insert of claim keys, which record the lease (owner, end,
// attempt) themselves: the job document is only written again on a retry
// or a give-up. So a claim costs the same with 100 or 100,000 jobs queued.
// Finished jobs are recorded in batches: their "done" keys go in the next
// claim's insert, and their documents are deleted later, many with one
// command (purge.go).
package delivery
