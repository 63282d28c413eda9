import { Component, type ReactNode } from 'react';
import { Button } from 'antd';
import { Notice } from './Notice';
import i18n from '../i18n';

interface State {
  error: Error | null;
}

/** A page that throws while rendering shows what happened, never a blank screen. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: string }, State> {
  state: State = { error: null };

  static getDerivedStateFromError(error: Error): State {
    return { error };
  }

  componentDidUpdate(prev: { resetKey?: string }) {
    if (prev.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }

  render() {
    if (!this.state.error) return this.props.children;
    return (
      <Notice
        kind="error"
        title={i18n.t('errors.pageCrashed')}
        extra={
          <Button type="primary" onClick={() => window.location.reload()}>
            {i18n.t('errors.reload')}
          </Button>
        }
      >
        {this.state.error.message}
      </Notice>
    );
  }
}
