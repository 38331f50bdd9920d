/**
 * Approximate places. The exact position never leaves the author's device: it is snapped to a grid of
 * about 200 m before it is stored, and distances are computed between snapped places only.
 */
export interface Place {
  lat: number
  lon: number
}

/** Grid step in degrees of latitude: 0.002° ≈ 222 m. Longitude steps widen with latitude to stay ≈ 200 m. */
const LAT_STEP = 0.002

const round = (x: number, step: number) => Math.round(Math.round(x / step) * step * 1e6) / 1e6

/** Snaps a position to the centre of its ~200 m cell. Same cell in, same place out. */
export function blurPlace(exact: Place): Place {
  const lat = round(exact.lat, LAT_STEP)
  const lonStep = LAT_STEP / Math.max(0.2, Math.cos((lat * Math.PI) / 180))
  return { lat, lon: round(exact.lon, lonStep) }
}

export function isValidPlace(p: Place): boolean {
  return Number.isFinite(p.lat) && Number.isFinite(p.lon) && Math.abs(p.lat) <= 90 && Math.abs(p.lon) <= 180
}

/** Great-circle distance in metres. */
export function distanceMetres(a: Place, b: Place): number {
  const R = 6_371_000
  const rad = Math.PI / 180
  const dLat = (b.lat - a.lat) * rad
  const dLon = (b.lon - a.lon) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2
  return 2 * R * Math.asin(Math.min(1, Math.sqrt(h)))
}
