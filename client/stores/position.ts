import { createSignal, type Accessor } from 'solid-js'
import { blurPlace, type Place } from '../../shared/place.ts'

/**
 * Where the device is, for "Près de moi", asked only when the person chooses it. The exact position is
 * snapped to its ~200 m cell as soon as it arrives and the exact one is dropped; the blurred one lives in
 * memory for this session only (never stored, never sent).
 */
export type PositionState =
  | { state: 'unknown' }
  | { state: 'asking' }
  | { state: 'known'; place: Place }
  /** The person (or the browser's settings) said no. */
  | { state: 'refused' }
  /** No positioning on this device, or it did not answer in time. */
  | { state: 'unavailable' }

const [position, setPosition] = createSignal<PositionState>({ state: 'unknown' })

export interface PositionStore {
  position: Accessor<PositionState>
  /** Asks the device once (the browser shows its own permission question the first time). */
  locate(): void
}

export function usePosition(): PositionStore {
  return { position, locate }
}

function locate(): void {
  if (position().state === 'asking') return
  const geo = typeof navigator === 'undefined' ? undefined : navigator.geolocation
  if (!geo) return void setPosition({ state: 'unavailable' })
  setPosition({ state: 'asking' })
  geo.getCurrentPosition(
    (p) => setPosition({ state: 'known', place: blurPlace({ lat: p.coords.latitude, lon: p.coords.longitude }) }),
    (e) => setPosition({ state: e.code === e.PERMISSION_DENIED ? 'refused' : 'unavailable' }),
    // A coarse fix of the last minute is enough for a ~200 m grid, and spares the battery.
    { enableHighAccuracy: false, maximumAge: 60_000, timeout: 20_000 },
  )
}
