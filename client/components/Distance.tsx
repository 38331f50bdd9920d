import { distanceMetres, type Place } from '../../shared/place.ts'
import { language, t } from '../i18n/index.ts'

/**
 * How far a post is, in round figures: places are blurred to ~200 m cells on both sides, so "300 m"
 * is already as precise as it gets.
 */
export function Distance(props: { from: Place; to: Place | undefined }) {
  const text = () => {
    if (!props.to) return t('board.distance.unknown')
    const m = distanceMetres(props.from, props.to)
    if (m < 250) return t('board.distance.near')
    if (m < 1_000) return t('board.distance.m', { n: Math.round(m / 100) * 100 })
    const km = new Intl.NumberFormat(language() === 'fr' ? 'fr-FR' : 'en-GB', { maximumFractionDigits: m < 10_000 ? 1 : 0 }).format(m / 1_000)
    return t('board.distance.km', { n: km })
  }
  return <p class="distance">{text()}</p>
}
