package signals

import "reflect"

// defaultEqual returns == for T when values of T can be compared without
// panicking, a recovering == when T holds interfaces (whose dynamic values
// may not be comparable), and nil, meaning "never equal", otherwise.
func defaultEqual[T any]() func(a, b T) bool {
	var zero T
	switch any(zero).(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, uintptr,
		float32, float64, complex64, complex128, string, bool:
		return plainEqual[T]
	}
	rt := reflect.TypeFor[T]()
	switch {
	case !rt.Comparable():
		return nil
	case hasInterface(rt):
		return safeEqual[T]
	}
	return plainEqual[T]
}

func plainEqual[T any](a, b T) bool { return any(a) == any(b) }

func safeEqual[T any](a, b T) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false // dynamic type not comparable: never equal
		}
	}()
	return any(a) == any(b)
}

// hasInterface reports whether comparing values of t can reach an interface
// value, where == may panic at run time.
func hasInterface(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Array:
		return hasInterface(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasInterface(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}
