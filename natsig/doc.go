// Package natsig shares signals between processes through NATS JetStream
// key-value buckets: every process that opens a key holds a local signal
// that follows it, so that computeds and effects everywhere react to writes
// made anywhere.
//
//	nc, _ := nats.Connect(url, nats.MaxReconnects(-1))
//	js, _ := jetstream.New(nc)
//	b, _ := natsig.CreateBucket(ctx, js, jetstream.KeyValueConfig{Bucket: "app"})
//	mode, _ := natsig.Open[string](ctx, b, "mode") // waits for the current value
//	defer mode.Close()
//	signals.NewEffect(func(t *signals.Tracker) {
//		log.Println("mode is", mode.Get(t)) // in every process, at every change
//	})
//	mode.Set(ctx, "maintenance")
//	views, _ := natsig.NewCounter(ctx, b, "views")
//	views.Add(ctx, 1) // exactly once (CAS shards), whatever happens to the connection
//
// # One watcher per bucket
//
// A Bucket runs one KV watcher for all the keys opened through it: it starts
// when the first key is opened, routes every revision to the instances of
// its key, and stops when the last one is closed. 10,000 open keys cost one
// JetStream consumer and a bounded number of goroutines (see DESIGN.md and
// README.md for the measurements). A key opened while the watcher runs loads
// its current value with one read from the stream's leader. Effects that
// depend on a Shared run on the goroutine that applied the revision: the
// bucket's watcher (one for all its keys: a slow effect delays the others;
// give it signals.Async or a scheduler), or the caller of Set, Update or Add.
//
// # Reads, writes, revisions
//
// A Shared is one key. Get and Peek read its local signal: no network.
// Set puts a value and Update does a read-modify-write with a
// compare-and-set on the key's revision, retried on conflict: N processes
// each updating a key M times leave it exactly N·M updates further. Both
// return once the bucket has acknowledged the write, and the writer's local
// value is then the written one or a later one. Values are encoded by a Codec,
// JSON unless WithCodec says otherwise. Options are typed: Open[T] takes
// KeyOption[T], so that WithCodec of a Codec[int] given to Open[string] does
// not compile, NewCounter takes CounterOption, and buckets BucketOption.
//
// The bucket's watcher applies every entry of the key to the local signal,
// whoever wrote it, in revision order: the local value never
// goes back to an older revision, whether it came from the watcher or from
// an acknowledged write. Revisions the bucket no longer holds when the
// watcher reads them are skipped: with the default History of 1, a value
// overwritten before a slow watcher reached it is never seen, only the one
// that replaced it. Give the bucket a larger History (up to 64) if observers
// must see every intermediate value.
//
// Effects may write to, add to and close the instances that triggered them.
//
// # Failures
//
// Status is a readable of the link's State: Connecting while the watcher
// starts or catches up, Connected once it has, Disconnected when the NATS
// connection is lost (the local value then stays as it was), Closed after
// Close. It is the bucket's watcher's status, shared by all the keys open
// through one Bucket. The loss of the connection and other background
// failures (a watcher that cannot start, a revision that the codec cannot
// decode) also go to the bucket's error handler (WithErrorHandler given to
// CreateBucket or NewBucket; by default log/slog). When the connection comes
// back, or the stream's leader changes (in a cluster), a new watcher resumes
// after the last revision received, so the local value catches up with
// everything written meanwhile; Status is Connecting until it has, then
// Connected. The connection should therefore reconnect forever
// (nats.MaxReconnects(-1)) and, in a cluster, know every server.
//
// A write whose acknowledgement is lost (a timeout, a connection lost while
// waiting) may or may not have been applied: Set and Update then return an
// error wrapping ErrUnknownOutcome, and retrying is only safe if the update
// is idempotent. Counter's adds are made idempotent: see below.
//
// Close releases the key; closing the bucket's last open key stops its
// watcher and releases its goroutines.
//
// # Counters: server-side, or compare-and-set shards
//
// Counter is an int64 whose adds survive lost acknowledgements, in one of
// two designs, chosen by the bucket NewCounter is given: exactly once with
// CAS shards, and exactly once within the bounds below with a counter
// bucket.
//
// In a counter bucket (CreateCounterBucket; nats-server 2.12 or later), the
// counter is a server-side counter (ADR-49): each batch of adds is one
// message with a Nats-Incr header, which the server adds to the key's
// value, and a Nats-Msg-Id naming this instance and the batch. When an
// acknowledgement is lost, the retry carries the same id and the server
// drops it as a duplicate. That holds within the stream's duplicate window
// (DefaultDuplicateWindow, 2 minutes): Add stops retrying before the window
// ends and returns an error wrapping ErrUnknownOutcome instead of risking a
// second count. It also depends on the server remembering the id: a server
// that restarts (or catches up from a snapshot) rebuilds its duplicate
// detection from the messages it still holds, so the bucket keeps the last
// DefaultCounterHistory (64) messages of each counter. An add retried after
// more than 63 other adds to the same counter were stored, and the server
// restarted, would be counted twice (TestRetryAfterRestart shows it with 1
// message kept). On a loaded cluster whose leaders fail over this happens:
// TestClusterFailover sees a resent add counted twice in about one run of
// ten. CounterStats.Resent counts the adds that were resent, the only ones
// that can count twice; use CAS shards where that is not acceptable.
// Writers never conflict, and no shards are needed. A
// counter bucket holds only counters. On a 3-node cluster it is the faster
// design (1.4× from 3 processes); on one busy server, CAS shards were
// faster: README.md compares the two.
//
// In a bucket made by CreateBucket, Counter is built on the same
// compare-and-set as Update. Each add is written
// with a mark in the shard's value, {"n": 41, "w": {"<writer>": {"op": 7,
// "at": <unix time>}}}, naming this Counter instance and the number of its
// write: when an acknowledgement is lost, the retry reads the shard, finds
// its mark if the write landed, and stops there. Adds are therefore exactly
// once, with no time limit on retries (a mark is kept for an hour after the
// writer's last add), and through any restart or failover, since the marks
// are in the values: this is the stronger guarantee. Both designs are
// tested the same way:
// TestServerRestart restarts the server under load, TestClusterFailover
// shuts down the leaders of a 3-node cluster under load, and both check that
// the total is exactly the number of acknowledged adds;
// TestLostAcknowledgement cuts an acknowledgement off deterministically.
//
// Within one process, adds made while writes are in flight are combined
// into the next write. A CAS Counter keeps one write in flight, so that its
// own goroutines never conflict with each other; a server-side Counter
// keeps up to 4, since increments commute.
//
// Compare-and-set conflicts come from other processes writing the same key
// at the same time:
// each costs a read and another write. To keep them rare, a Counter is split
// into shards, keys key.0 to key.N-1; its value is the sum of all of them
// (one wildcard watcher and a computed: reads cost the same), and each add
// goes to one shard. An instance starts on a random shard and moves to
// another one after a conflict, so that writers spread out. Measured by
// TestShardingConflicts (4 writers on separate connections, each keeping a
// write in flight; loopback server, 2 cores, no race detector, 3 runs):
//
//	shards  conflicts/writes  adds/s
//	1       13–18%            1900–2000
//	2       8–9%              2500–4600
//	4       1–2%              4700–5600
//	8       0%                5700–8800
//
// With network latency between processes and server, a write takes longer,
// and a single key conflicts more. Sharding costs nothing on reads and N
// small keys in the bucket, so DefaultShards is 4; use Shards(n) with n
// about the number of processes that add concurrently. Instances with
// different shard counts can share a counter: each sums every shard it
// sees.
//
// # Limits
//
// Deleting and recreating a bucket while instances have it open is not
// supported (revisions start again from 1, and would be taken as old): close
// and reopen them. A value must fit in a NATS message (1 MB by default).
package natsig
