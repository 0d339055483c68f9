// Package live counts what package signals has started and not finished,
// for package signalstest's leak check.
package live

import "sync/atomic"

// Subscriptions counts the channels returned by Subscribe that are not
// closed yet.
var Subscriptions atomic.Int64
