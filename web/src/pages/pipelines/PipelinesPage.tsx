export default function PipelinesPage() {
  return null;
}
