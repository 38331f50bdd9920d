declare module 'virtual:placette-communes' {
  /** The communes list, encoded by shared/communes.ts `encodeCommunes`. */
  const packed: string
  export default packed
}
