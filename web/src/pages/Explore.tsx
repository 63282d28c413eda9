import { EditorView } from '@codemirror/view';
import * as echarts from 'echarts/core';
export default function Explore() {
  void EditorView;
  void echarts;
  return <div>Explore</div>;
}
