import { lazy, Suspense } from 'react';
import { ConfigProvider, Spin } from 'antd';

const Explore = lazy(() => import('./pages/Explore'));

export function App() {
  return (
    <ConfigProvider>
      <Suspense fallback={<Spin />}>
        <Explore />
      </Suspense>
    </ConfigProvider>
  );
}
