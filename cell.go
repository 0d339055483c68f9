package signals

import (
	"reflect"
	"runtime"
	"sync/atomic"
	"unsafe"

	"github.com/gosignals/signals/internal/core"
)

// A cell holds the current value of a signal or computed so that it can be
// read without a lock, in one of three forms chosen by the value's type:
//
//   - word: pointer-free types of at most eight bytes (ints, floats, bools,
//     small arrays and structs of them) live in one atomic word;
//   - seq: other pointer-free types of at most seqBytes live in a block of
//     atomic words allocated once, guarded by a sequence counter: a reader
//     copies the words and retries if a write overlapped;
//   - box: any other type lives in an immutable box behind an atomic
//     pointer, one allocation per change.
//
// Writes are made by one writer at a time (under the engine's lock). The
// first two forms allocate nothing per write. A sequence block pays an
// atomic store per word, which beyond four words costs more than the box's
// allocation (measured: a 24-byte struct 15 ns a write and read with the
// block, 22 ns and an allocation boxed; an 80-byte one 52 ns against 30 ns).
type cell[T any] struct {
	word atomic.Uint64
	ptr  unsafe.Pointer // box: *T, swapped atomically; seq: *seqBlock, fixed
}

// seqBytes is the largest size kept in a sequence block.
const seqBytes = 32

// seqBlock is the storage of a cell in the seq form.
type seqBlock struct {
	ver atomic.Uint64 // odd while a write is in progress
	w   [seqBytes / 8]atomic.Uint64
}

// Cell forms, as flags on the node.
const (
	flagInline = core.FlagUser << 1 // the word form
	flagSeq    = core.FlagUser << 2 // the seq form
)

// init prepares an empty cell for form f (a flag above) and stores v.
func (c *cell[T]) init(v T, f uint32) {
	if f&flagSeq != 0 {
		c.ptr = unsafe.Pointer(new(seqBlock))
	}
	c.store(v, f)
}

func (c *cell[T]) load(f uint32) T {
	switch {
	case f&flagInline != 0:
		w := c.word.Load()
		return *(*T)(unsafe.Pointer(&w))
	case f&flagSeq != 0:
		return c.loadSeq()
	}
	return *(*T)(atomic.LoadPointer(&c.ptr))
}

func (c *cell[T]) loadSeq() T {
	b := (*seqBlock)(c.ptr)
	var buf [seqBytes / 8]uint64
	n := wordsOf[T]()
	for spins := 0; ; spins++ {
		v := b.ver.Load()
		for i := range n {
			buf[i] = b.w[i].Load()
		}
		if v&1 == 0 && b.ver.Load() == v {
			return *(*T)(unsafe.Pointer(&buf))
		}
		if spins > 64 {
			runtime.Gosched() // the writer was preempted mid-write
		}
	}
}

func (c *cell[T]) store(v T, f uint32) {
	switch {
	case f&flagInline != 0:
		var w uint64
		*(*T)(unsafe.Pointer(&w)) = v
		c.word.Store(w)
	case f&flagSeq != 0:
		c.storeSeq(v)
	default:
		c.storeBox(v)
	}
}

func (c *cell[T]) storeSeq(v T) {
	b := (*seqBlock)(c.ptr)
	var buf [seqBytes / 8]uint64
	*(*T)(unsafe.Pointer(&buf)) = v
	b.ver.Add(1)
	for i := range wordsOf[T]() {
		b.w[i].Store(buf[i])
	}
	b.ver.Add(1)
}

// storeBox is apart so that only the boxed form moves v to the heap.
//
//go:noinline
func (c *cell[T]) storeBox(v T) { atomic.StorePointer(&c.ptr, unsafe.Pointer(&v)) }

// wordsOf is how many words a T takes.
func wordsOf[T any]() int {
	var v T
	return int(unsafe.Sizeof(v)+7) / 8
}

// cellForm returns the form (flagInline, flagSeq or 0 for the box) for
// values of t.
func cellForm(t reflect.Type) uint32 {
	switch {
	case !pointerFree(t):
		return 0
	case t.Size() <= 8:
		return flagInline
	case t.Size() <= seqBytes:
		return flagSeq
	}
	return 0
}

// pointerFree reports whether values of t hold no pointers, so that their
// bytes may live in atomic words the garbage collector does not scan.
func pointerFree(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64, reflect.Complex128:
		return true
	case reflect.Array:
		return t.Len() == 0 || pointerFree(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !pointerFree(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}
